//! TLS for `rtsps://` and `rtmps://` sources: rustls's client, itself sans-IO, between the
//! socket's bytes and the pull machine's plaintext.
//!
//! The server's certificate is checked one of two ways, as MediaMTX does it:
//! - `sourceFingerprint` set: the SHA-256 of the leaf certificate (DER) must equal it (hex;
//!   case and `:` separators ignored), whoever signed it; no chain or name check;
//! - otherwise: the chain must lead to a trusted root (loaded by the binary, usually the
//!   system's) and name the host.

use bytes::{Buf, BytesMut};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::sync::Arc;

/// Where trusted root certificates come from: called the first time a source without a
/// fingerprint needs them (the binary reads the system's store there).
#[derive(Clone)]
pub struct TrustRoots(Arc<dyn Fn() -> Arc<RootCertStore> + Send + Sync>);

impl TrustRoots {
    /// Roots produced by `load` (called at most once per source connection).
    pub fn new(load: impl Fn() -> Arc<RootCertStore> + Send + Sync + 'static) -> TrustRoots {
        TrustRoots(Arc::new(load))
    }

    /// No trusted roots: only sources with a fingerprint can be verified.
    pub fn none() -> TrustRoots {
        TrustRoots::new(|| Arc::new(RootCertStore::empty()))
    }

    fn load(&self) -> Arc<RootCertStore> {
        (self.0)()
    }
}

impl Default for TrustRoots {
    fn default() -> TrustRoots {
        TrustRoots::none()
    }
}

impl std::fmt::Debug for TrustRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrustRoots")
    }
}

/// The lowercase hex SHA-256 of a certificate's DER bytes, as `sourceFingerprint` holds it.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fingerprint as configured, normalized: lowercase, without `:` separators.
fn normalize(fp: &str) -> String {
    fp.chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The client configuration for a source: pinned to `fingerprint` when it is not empty,
/// verified against `roots` otherwise.
pub fn client_config(fingerprint: &str, roots: &TrustRoots) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    let config = if fingerprint.is_empty() {
        builder
            .with_root_certificates(roots.load())
            .with_no_client_auth()
    } else {
        let pin = Pinned {
            expected: normalize(fingerprint),
            provider,
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(pin))
            .with_no_client_auth()
    };
    Arc::new(config)
}

/// Accepts exactly the certificate whose SHA-256 is `expected` (signatures still checked).
#[derive(Debug)]
struct Pinned {
    expected: String,
    provider: Arc<CryptoProvider>,
}

/// The error of a certificate that is not the pinned one.
#[derive(Debug)]
struct Mismatch(String);

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Mismatch {}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = fingerprint(end_entity);
        if got == self.expected {
            return Ok(ServerCertVerified::assertion());
        }
        let why = format!(
            "source fingerprint does not match: expected {}, got {got}",
            self.expected
        );
        Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::Other(rustls::OtherError(Arc::new(Mismatch(why)))),
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A TLS error for the log (rustls shows its `Other` certificate errors with `Debug`).
fn describe(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
            format!("TLS: invalid peer certificate: {other}")
        }
        e => format!("TLS: {e}"),
    }
}

/// One TLS client session: ciphertext in and out, plaintext to and from the pull machine.
#[derive(Debug)]
pub(crate) struct TlsLayer {
    conn: rustls::ClientConnection,
}

impl TlsLayer {
    /// A session with `host` (its name is sent as SNI when it is a DNS name).
    pub(crate) fn new(config: Arc<rustls::ClientConfig>, host: &str) -> Result<TlsLayer, String> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| format!("invalid TLS server name '{host}'"))?;
        let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        Ok(TlsLayer { conn })
    }

    /// Decrypts the records in `cipher` (consumed) and appends their plaintext to `plain`;
    /// `Err` when the server's TLS is broken or its certificate refused.
    pub(crate) fn handle_input(
        &mut self,
        cipher: &mut BytesMut,
        plain: &mut BytesMut,
    ) -> Result<(), String> {
        while !cipher.is_empty() {
            let mut rd: &[u8] = cipher;
            let n = self.conn.read_tls(&mut rd).map_err(|e| e.to_string())?;
            cipher.advance(n);
            let state = self.conn.process_new_packets().map_err(|e| describe(&e))?;
            let ready = state.plaintext_bytes_to_read();
            if ready > 0 {
                let start = plain.len();
                plain.resize(start + ready, 0);
                self.conn
                    .reader()
                    .read_exact(&mut plain[start..])
                    .map_err(|e| e.to_string())?;
            }
            if state.peer_has_closed() {
                return Err("the server closed the TLS session".into());
            }
            if n == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Encrypts `plain` (sent once the handshake is done) and appends every record due,
    /// handshake included, to `out`.
    pub(crate) fn write(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        if !plain.is_empty() {
            self.conn
                .writer()
                .write_all(plain)
                .map_err(|e| e.to_string())?;
        }
        while self.conn.wants_write() {
            self.conn.write_tls(out).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
