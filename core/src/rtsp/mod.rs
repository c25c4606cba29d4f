//! RTSP 1.0 (RFC 2326): wire messages, typed headers, and the server connection state machine.
