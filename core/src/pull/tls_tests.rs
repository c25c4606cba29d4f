//! TLS sources against rustls's own server, bytes passed by hand (no sockets, no clock).

use super::{ClientEvent, PullClient, SourceUrl, TrustRoots};
use crate::rtsp::client::ClientConfig;
use bytes::BytesMut;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

const CA: &[u8] = include_bytes!("../../tests/data/tls/ca.der");
const LEAF: &[u8] = include_bytes!("../../tests/data/tls/server.der");
const KEY: &[u8] = include_bytes!("../../tests/data/tls/server.key.der");
/// The leaf's fingerprint as `openssl x509 -fingerprint -sha256` prints it.
const LEAF_OPENSSL: &str = "5A:B4:8A:C8:41:EF:81:9D:33:83:3E:62:F5:6C:4E:35:1F:45:89:73:AB:96:B4:7E:D5:F3:A5:BD:83:4A:C7:64";

fn server() -> rustls::ServerConnection {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(KEY.to_vec()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(LEAF.to_vec())], key)
        .unwrap();
    rustls::ServerConnection::new(Arc::new(config)).unwrap()
}

fn ca_roots() -> TrustRoots {
    TrustRoots::new(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(CA.to_vec())).unwrap();
        Arc::new(roots)
    })
}

/// A client of `url` verified with `fingerprint` / `roots`, and rustls's server.
struct Pair {
    now: Instant,
    client: PullClient,
    server: rustls::ServerConnection,
    /// Plaintext the server received.
    got: Vec<u8>,
}

impl Pair {
    // The fake clock needs one real base instant; only offsets from it are used after that.
    #[allow(clippy::disallowed_methods)]
    fn new(url: &str, fingerprint: &str, roots: TrustRoots) -> Pair {
        let cfg = ClientConfig {
            fingerprint: fingerprint.into(),
            roots,
            ..Default::default()
        };
        let url = SourceUrl::parse(url).unwrap();
        let now = Instant::now();
        Pair {
            now,
            client: PullClient::new(cfg, url, now, 1),
            server: server(),
            got: Vec::new(),
        }
    }

    /// Passes records both ways until both sides are quiet; `Err` with the server's error.
    fn run(&mut self) -> Result<(), rustls::Error> {
        for _ in 0..20 {
            let mut to_server = Vec::new();
            self.client.poll_transmit(&mut to_server);
            let mut rd = &to_server[..];
            while !rd.is_empty() {
                self.server.read_tls(&mut rd).unwrap();
                self.server.process_new_packets()?;
            }
            let mut buf = [0u8; 4096];
            while let Ok(n) = self.server.reader().read(&mut buf) {
                if n == 0 {
                    break;
                }
                self.got.extend_from_slice(&buf[..n]);
            }
            let mut to_client = Vec::new();
            while self.server.wants_write() {
                self.server.write_tls(&mut to_client).unwrap();
            }
            if to_server.is_empty() && to_client.is_empty() {
                return Ok(());
            }
            let mut input = BytesMut::from(&to_client[..]);
            self.client.handle_input(self.now, &mut input);
        }
        panic!("the peers never went quiet");
    }

    /// The client's close reason, if it closed.
    fn closed(&mut self) -> Option<String> {
        std::iter::from_fn(|| self.client.poll_event()).find_map(|ev| match ev {
            ClientEvent::Close { reason } => Some(reason),
            _ => None,
        })
    }
}

#[test]
fn a_pinned_certificate_carries_rtsp_both_ways() {
    let mut p = Pair::new("rtsps://localhost/cam", LEAF_OPENSSL, TrustRoots::none());
    p.run().unwrap();
    assert!(!p.server.is_handshaking());
    let text = String::from_utf8(p.got.clone()).unwrap();
    assert!(
        text.starts_with("OPTIONS rtsps://localhost/cam RTSP/1.0\r\n"),
        "{text}"
    );
    // The answer goes through the session and the client moves on to DESCRIBE.
    p.got.clear();
    let answer = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP, PLAY\r\n\r\n";
    p.server.writer().write_all(answer).unwrap();
    p.run().unwrap();
    let text = String::from_utf8(p.got.clone()).unwrap();
    assert!(
        text.starts_with("DESCRIBE rtsps://localhost/cam RTSP/1.0\r\n"),
        "{text}"
    );
    assert_eq!(p.closed(), None);
}

#[test]
fn rtmps_sends_the_rtmp_handshake_inside_tls() {
    let mut p = Pair::new(
        "rtmps://127.0.0.1/live/cam",
        &super::fingerprint(LEAF),
        TrustRoots::none(),
    );
    p.run().unwrap();
    // C0 (version 3) and C1 (1536 bytes).
    assert_eq!(p.got.first(), Some(&3));
    assert_eq!(p.got.len(), 1 + 1536);
    assert_eq!(p.closed(), None);
}

#[test]
fn another_certificate_than_the_pinned_one_is_refused() {
    let wrong = "00".repeat(32);
    let mut p = Pair::new("rtsps://localhost/cam", &wrong, TrustRoots::none());
    assert!(p.run().is_err(), "the server sees the client's alert");
    let reason = p.closed().expect("the client closes");
    let expected = format!(
        "TLS: invalid peer certificate: source fingerprint does not match: expected {wrong}, got {}",
        super::fingerprint(LEAF)
    );
    assert_eq!(reason, expected);
    assert!(p.got.is_empty(), "no plaintext reached the server");
}

#[test]
fn without_a_fingerprint_the_chain_must_reach_a_trusted_root() {
    for host in ["localhost", "127.0.0.1"] {
        let mut p = Pair::new(&format!("rtsps://{host}:8322/cam"), "", ca_roots());
        p.run().unwrap();
        let text = String::from_utf8(p.got.clone()).unwrap();
        let start = format!("OPTIONS rtsps://{host}:8322/cam RTSP/1.0\r\n");
        assert!(text.starts_with(&start), "{text}");
    }
    let mut p = Pair::new("rtsps://localhost/cam", "", TrustRoots::none());
    assert!(p.run().is_err());
    let reason = p.closed().expect("the client closes");
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    // The certificate names localhost and 127.0.0.1, nothing else.
    let mut p = Pair::new("rtsps://example.com/cam", "", ca_roots());
    assert!(p.run().is_err());
    let reason = p.closed().expect("the client closes");
    assert!(
        reason.contains("not valid for name \"example.com\""),
        "{reason}"
    );
}

#[test]
fn garbage_from_the_server_closes_the_source() {
    let mut p = Pair::new("rtsps://localhost/cam", LEAF_OPENSSL, TrustRoots::none());
    let mut out = Vec::new();
    p.client.poll_transmit(&mut out);
    let mut junk = BytesMut::from(&b"RTSP/1.0 200 OK\r\n\r\n"[..]);
    p.client.handle_input(p.now, &mut junk);
    let reason = p.closed().expect("the client closes");
    assert!(reason.starts_with("TLS: "), "{reason}");
    assert!(junk.is_empty());
}
