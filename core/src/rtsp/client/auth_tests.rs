//! Sources with credentials in their URL: the client answers a server's 401 challenge (Digest
//! preferred over Basic, as cameras offer both) by sending the request again, and gives up on a
//! second refusal; a stale nonce is retried.

use super::*;
use crate::rtsp::headers::auth::{digest_response, Authorization};
use bytes::BytesMut;
use std::time::Instant;

#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// The client's next request as text.
fn sent(c: &mut ClientConnection) -> String {
    let mut out = Vec::new();
    assert!(c.poll_transmit(&mut out), "a request was queued");
    String::from_utf8(out).unwrap()
}

fn header<'a>(req: &'a str, name: &str) -> Option<&'a str> {
    req.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
}

fn answer(c: &mut ClientConnection, text: &str) {
    let mut buf = BytesMut::from(text.as_bytes());
    c.handle_input(now(), &mut buf);
}

const DIGEST_AND_BASIC: &str = "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n\
    WWW-Authenticate: Basic realm=\"IPCAM\"\r\n\
    WWW-Authenticate: Digest realm=\"IPCAM\", nonce=\"abc123\"\r\n\r\n";

#[test]
fn digest_challenge_is_answered_and_kept_for_later_requests() {
    let url = SourceUrl::parse("rtsp://admin:s3cret@cam:554/live").unwrap();
    let mut c = ClientConnection::new(ClientConfig::default(), url, now());
    let first = sent(&mut c);
    assert!(first.starts_with("OPTIONS rtsp://cam:554/live RTSP/1.0\r\n"));
    assert_eq!(
        header(&first, "Authorization"),
        None,
        "no credentials before a challenge"
    );
    answer(&mut c, DIGEST_AND_BASIC);
    let again = sent(&mut c);
    assert!(again.starts_with("OPTIONS rtsp://cam:554/live RTSP/1.0\r\nCSeq: 2\r\n"));
    let auth = header(&again, "Authorization").expect("credentials after the challenge");
    let Authorization::Digest(d) = Authorization::parse(auth).unwrap() else {
        panic!("Digest preferred: {auth}")
    };
    assert_eq!((d.username, d.realm, d.nonce), ("admin", "IPCAM", "abc123"));
    assert_eq!(d.uri, "rtsp://cam:554/live");
    let want = digest_response("admin", "IPCAM", "s3cret", "OPTIONS", d.uri, "abc123");
    assert_eq!(d.response, want);
    // Later requests carry fresh credentials for their own method.
    answer(&mut c, "RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n");
    let describe = sent(&mut c);
    assert!(describe.starts_with("DESCRIBE "));
    let Authorization::Digest(d) =
        Authorization::parse(header(&describe, "Authorization").unwrap()).unwrap()
    else {
        panic!("Digest")
    };
    let want = digest_response("admin", "IPCAM", "s3cret", "DESCRIBE", d.uri, "abc123");
    assert_eq!(d.response, want);
}

#[test]
fn wrong_credentials_close_after_one_retry() {
    let url = SourceUrl::parse("rtsp://admin:wrong@cam/live").unwrap();
    let mut c = ClientConnection::new(ClientConfig::default(), url, now());
    sent(&mut c);
    answer(&mut c, DIGEST_AND_BASIC);
    sent(&mut c);
    answer(
        &mut c,
        "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm=\"IPCAM\", nonce=\"n2\"\r\n\r\n",
    );
    match c.poll_event() {
        Some(ClientEvent::Close { reason }) => {
            assert_eq!(
                reason,
                "the server answered OPTIONS with 401 (wrong credentials)"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stale_nonce_is_retried_and_basic_works_alone() {
    let url = SourceUrl::parse("rtsp://u:p@cam/live").unwrap();
    let mut c = ClientConnection::new(ClientConfig::default(), url, now());
    sent(&mut c);
    answer(
        &mut c,
        "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Basic realm=\"r\"\r\n\r\n",
    );
    let again = sent(&mut c);
    assert_eq!(header(&again, "Authorization"), Some("Basic dTpw"));
    answer(
        &mut c,
        "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\", stale=TRUE\r\n\r\n",
    );
    let third = sent(&mut c);
    assert!(header(&third, "Authorization")
        .unwrap()
        .starts_with("Digest "));
    assert!(c.poll_event().is_none(), "still going");
}

#[test]
fn no_credentials_in_the_url() {
    let url = SourceUrl::parse("rtsp://cam/live").unwrap();
    let mut c = ClientConnection::new(ClientConfig::default(), url, now());
    sent(&mut c);
    answer(&mut c, DIGEST_AND_BASIC);
    match c.poll_event() {
        Some(ClientEvent::Close { reason }) => assert_eq!(
            reason,
            "the server answered OPTIONS with 401 (the source URL has no credentials)"
        ),
        other => panic!("{other:?}"),
    }
}
