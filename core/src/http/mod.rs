//! A protocol-generic HTTP/1.1 server connection: it serves HLS today, the Control API and the
//! metrics later.
//!
//! One [`HttpServerConnection`] per TCP connection, driven like every machine of this crate:
//! feed bytes with [`HttpServerConnection::handle_input`], drain [`HttpServerConnection::poll_event`]
//! and [`HttpServerConnection::poll_transmit`], arm a timer for
//! [`HttpServerConnection::poll_timeout`]. Each complete request comes out as
//! [`HttpEvent::Request`]; the caller answers it with [`HttpServerConnection::respond`] whenever
//! it likes — right away, or later for an LL-HLS blocking playlist reload — and the connection
//! writes the answers in request order (RFC 9112 §9.3.2).
//!
//! What the connection does by itself:
//!
//! - keep-alive (HTTP/1.1 by default, HTTP/1.0 with `Connection: keep-alive`); `Connection:
//!   close` closes after that response and nothing after it is parsed;
//! - `HEAD`: the caller answers like `GET`; only the head is sent, with the body's
//!   `Content-Length`;
//! - `Server` and `Content-Length` on every response (none on 204 and 304); no `Date` header,
//!   since the core reads no clock (RFC 9110 §6.6.1 lets a server without a clock omit it);
//! - refusals without an event: malformed request line or fields, a missing or repeated `Host`
//!   in HTTP/1.1 → 400 and close; a head over `max_head_bytes` or more than `max_headers`
//!   fields → 431 and close; `Content-Length` over `max_body_bytes` → 413 and close; any
//!   `Transfer-Encoding` (chunked request bodies are not supported) → 501 and close; HTTP/0.9,
//!   HTTP/2 (its preface) or any version other than 1.0 / 1.1 → 505 and close; a target that is
//!   not origin-form or holds, once percent-decoded, a `..` segment, a backslash, NUL or
//!   another control character → 400, the connection stays open;
//! - CORS ([`CorsPolicy`], MediaMTX's `allowOrigins` matching): `Access-Control-Allow-Origin`,
//!   `Access-Control-Allow-Credentials` and `Vary: Origin` on every response, and CORS
//!   preflights (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) answered with 204,
//!   `Access-Control-Allow-Methods: OPTIONS, GET, HEAD` plus
//!   [`HttpServerConfig::cors_extra_methods`], and `Access-Control-Allow-Headers` from
//!   [`HttpServerConfig::cors_allow_headers`]. Other `OPTIONS` requests go to the caller;
//! - `Expect: 100-continue`: `100 Continue` is sent when no earlier response is pending
//!   (otherwise the client sends its body after its own delay);
//! - the idle timeout: with no request outstanding, no byte for `idle_timeout` closes the
//!   connection. A held request never times out here: the caller has its own deadline.
//!
//! Memory is bounded: at most `max_pipelined` requests are outstanding (parsing pauses past it,
//! see [`HttpServerConnection::wants_input`]); what stays in the caller's buffer is at most one
//! partial head (`max_head_bytes`) or one partial body (`max_body_bytes`); once the connection
//! will parse nothing more, the buffer is emptied.

mod conn;
mod cors;
mod path;
mod request;
mod response;

pub use conn::{HttpEvent, HttpServerConfig, HttpServerConnection};
pub use cors::{CorsHeaders, CorsPolicy};
pub use path::{decode_query_component, percent_decode, query_param, split_target, TargetError};
pub use request::{Method, Request, RequestId};
pub use response::{reason_phrase, Body, Response};

#[cfg(test)]
mod tests;
