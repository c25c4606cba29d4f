//! Error classification shared by every protocol: who is to blame.
//!
//! Each protocol error type maps into a [`Blame`], and each blame maps cleanly to the protocol's
//! own answer (an RTSP status code, an RTMP close, an HTTP status).

/// Who is responsible for an error, which decides how the protocol answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The input is not valid for the protocol's grammar (RTSP 400).
    Malformed,
    /// The input is well formed but not allowed in the current state (RTSP 455, 454, 459…).
    PeerMisbehaved,
    /// Valid input that asks for something weir does not support (RTSP 461, 501…).
    Unsupported,
    /// A size or count limit was hit (RTSP 413 / 414, or a close).
    Limit,
}
