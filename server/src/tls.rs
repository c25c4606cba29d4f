//! The system's trusted root certificates, for `rtsps://` / `rtmps://` sources without
//! `sourceFingerprint`: read once, the first time such a source connects (`SSL_CERT_FILE` and
//! `SSL_CERT_DIR` override where from, as with OpenSSL).

use std::sync::{Arc, OnceLock};
use weir_core::pull::TrustRoots;

/// Roots loaded from the system's store on first use, then shared.
pub(crate) fn system_roots() -> TrustRoots {
    static ROOTS: OnceLock<Arc<rustls::RootCertStore>> = OnceLock::new();
    TrustRoots::new(|| ROOTS.get_or_init(load).clone())
}

fn load() -> Arc<rustls::RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::warn!("trusted certificates: {e}");
    }
    let mut roots = rustls::RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    tracing::debug!("trusted certificates: {added} loaded, {ignored} unusable");
    if added == 0 {
        tracing::warn!(
            "no trusted certificates found: TLS sources need sourceFingerprint \
             (install ca-certificates, or set SSL_CERT_FILE)"
        );
    }
    Arc::new(roots)
}
