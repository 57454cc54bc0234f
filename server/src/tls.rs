//! TLS: a rustls acceptor from PEM files. Any problem with them stops the server at start;
//! there is no fallback to plaintext for a server told to offer TLS.

use std::sync::Arc;

use pgwire::tokio::tokio_rustls::TlsAcceptor;
use pgwire::tokio::tokio_rustls::rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;

pub struct Tls {
    pub acceptor: TlsAcceptor,
    /// The same identity for the HTTP listener (HTTPS), offering HTTP/1.1 over ALPN.
    pub http_acceptor: TlsAcceptor,
    /// The certificate chain as read, for SCRAM channel binding.
    pub cert_pem: Vec<u8>,
}

pub fn load(files: &TlsFiles) -> Result<Tls, String> {
    let cert_pem = std::fs::read(&files.cert)
        .map_err(|e| format!("cannot read TLS certificate {}: {e}", files.cert.display()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("TLS certificate {}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "TLS certificate {} holds no certificate",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("TLS key {}: {e}", files.key.display()))?;
    let provider = Arc::new(pgwire::tokio::tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate and key do not make a server identity: {e}"))?;
    let mut http_config = config.clone();
    http_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // libpq 17+ may negotiate TLS directly, naming the protocol with ALPN.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        http_acceptor: TlsAcceptor::from(Arc::new(http_config)),
        cert_pem,
    })
}
