//! The HLS server: an HTTP/1.1 listener (core `http` connection per TCP connection), one shared
//! muxer per path (core `hls::HlsMuxer`, fed by a task that reads the path's ring like any
//! reader), and the player page.
//!
//! A request the muxer cannot answer yet (an LL-HLS blocking reload, a playlist before the
//! first segment) is *held*: the muxer remembers its token; the path's task answers it through
//! the connection's mailbox as soon as the unit that completes it has been pushed.

mod conn;
mod mailbox;
mod muxer;

pub(crate) use conn::run;
pub(crate) use muxer::HlsHub;
