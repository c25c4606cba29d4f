//! Where an HLS connection receives the answers to its held requests (from the muxer task, or
//! from the task that waits for an on-demand source): a locked list and two wake-ups. A tokio
//! channel would do, but its first block holds 32 answers, allocated with the channel: about
//! 3 KB for each client, most of which never has more than one request held.

use crate::hub::lock;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
struct Shared<T> {
    inbox: Mutex<Inbox<T>>,
    /// Wakes the connection: an answer arrived.
    arrived: Notify,
    /// Wakes the senders waiting in [`Sender::closed`]: the connection went away.
    gone: Notify,
}

struct Inbox<T> {
    answers: Vec<T>,
    closed: bool,
}

/// The sending side, one clone per held request.
pub(crate) struct Sender<T>(Arc<Shared<T>>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}

/// The connection's side; dropping it closes the mailbox.
pub(crate) struct Receiver<T>(Arc<Shared<T>>);

/// A new mailbox.
pub(crate) fn mailbox<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        inbox: Mutex::new(Inbox {
            answers: Vec::new(),
            closed: false,
        }),
        arrived: Notify::new(),
        gone: Notify::new(),
    });
    (Sender(shared.clone()), Receiver(shared))
}

impl<T> Sender<T> {
    /// Delivers an answer; false when the connection is gone.
    pub(crate) fn send(&self, answer: T) -> bool {
        {
            let mut inbox = lock(&self.0.inbox);
            if inbox.closed {
                return false;
            }
            inbox.answers.push(answer);
        }
        // One receiver: a stored permit covers an answer sent while it is not waiting.
        self.0.arrived.notify_one();
        true
    }

    /// Completes once the connection is gone.
    pub(crate) async fn closed(&self) {
        let gone = self.0.gone.notified();
        tokio::pin!(gone);
        // Registered before the flag is read, so a close in between still wakes us.
        gone.as_mut().enable();
        if lock(&self.0.inbox).closed {
            return;
        }
        gone.await;
    }
}

impl<T> Receiver<T> {
    /// The next answer, in the order they were sent (cancel-safe: nothing is taken until
    /// it is returned).
    pub(crate) async fn recv(&mut self) -> T {
        loop {
            {
                let mut inbox = lock(&self.0.inbox);
                if !inbox.answers.is_empty() {
                    let answer = inbox.answers.remove(0);
                    if inbox.answers.is_empty() {
                        // A burst of answers does not keep its room for the connection's life.
                        inbox.answers = Vec::new();
                    }
                    return answer;
                }
            }
            self.0.arrived.notified().await;
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut inbox = lock(&self.0.inbox);
        inbox.closed = true;
        inbox.answers.clear();
        drop(inbox);
        self.0.gone.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_arrive_in_order_even_when_sent_before_waiting() {
        let (tx, mut rx) = mailbox();
        assert!(tx.send(1));
        assert!(tx.clone().send(2));
        assert_eq!(rx.recv().await, 1);
        assert_eq!(rx.recv().await, 2);
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_by_another_task() {
        let (tx, mut rx) = mailbox();
        let t = tokio::spawn(async move {
            tokio::task::yield_now().await;
            tx.send(7)
        });
        assert_eq!(rx.recv().await, 7);
        assert!(t.await.unwrap());
    }

    #[tokio::test]
    async fn dropping_the_receiver_wakes_closed_and_refuses_answers() {
        let (tx, rx) = mailbox::<u32>();
        let waiter = tokio::spawn({
            let tx = tx.clone();
            async move { tx.closed().await }
        });
        tokio::task::yield_now().await;
        drop(rx);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("closed() completes once the receiver is dropped")
            .unwrap();
        assert!(!tx.send(1));
        // Already closed: returns at once.
        tx.closed().await;
    }

    #[tokio::test]
    async fn a_cancelled_recv_loses_nothing() {
        let (tx, mut rx) = mailbox();
        // Poll recv (nothing there yet), then drop it.
        let pending = tokio::time::timeout(std::time::Duration::from_millis(10), rx.recv()).await;
        assert!(pending.is_err());
        tx.send(3);
        assert_eq!(rx.recv().await, 3);
    }
}
