//! AutoMTLS as go-plugin does it: each side makes a throwaway self-signed
//! certificate, the client passes its PEM in `PLUGIN_CLIENT_CERT`, the server
//! sends its DER back on the handshake line, and each pins the other.
//!
//! Two traps shape this module (see the protocol notes, section 1.3):
//! Terraform's client key is ECDSA P-521 with SHA-512, which only the aws-lc-rs
//! provider can verify, and the client certificate is `CA:TRUE`, which webpki
//! refuses as an end entity. So client auth is a byte-for-byte pin rather than
//! chain validation, and the crypto provider is always passed explicitly.

use std::sync::Arc;

use base64::Engine as _;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

/// Errors while setting up TLS; all of them are fatal at start-up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate")]
    NoClientCert,
    #[error("PLUGIN_CLIENT_CERT is not valid PEM: {0}")]
    ClientCertPem(String),
    #[error("generating the server certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("building the TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The provider's own certificate and key for one process lifetime.
pub struct ServerIdentity {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key must never reach a log line, even at trace level.
        f.debug_struct("ServerIdentity")
            .field("cert_len", &self.cert.len())
            .finish_non_exhaustive()
    }
}

/// Mirrors go-plugin's `generateCert()` (except the curve: P-256 is cheaper than
/// P-521 and Terraform accepts it), because the Go client validates the server
/// certificate as its own root: it needs CA:TRUE, SAN localhost and serverAuth.
pub fn generate_server_identity() -> Result<ServerIdentity, TlsError> {
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert = go_plugin_cert(&key_pair)?;
    Ok(ServerIdentity {
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der())),
    })
}

/// The certificate go-plugin's `generateCert()` makes for `key`, as either side of
/// AutoMTLS uses it: self-signed, CA:TRUE, SAN and CN localhost, O HashiCorp, key usages
/// digitalSignature/keyEncipherment/keyAgreement/keyCertSign, EKU client+server, valid
/// from 30 s ago for 262,980 hours. The signature algorithm is the key's: Terraform's
/// own client key is P-521 (ecdsa-with-SHA512), which is what tests and the benchmark
/// generate to launch a provider the way Terraform does.
pub fn go_plugin_cert(key: &rcgen::KeyPair) -> Result<rcgen::Certificate, rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
    };
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::OrganizationName, "HashiCorp");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let now = time::OffsetDateTime::now_utc();
    // Backdated like go-plugin so a peer whose clock lags slightly still accepts it.
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::hours(262_980);
    params.self_signed(key)
}

/// Every certificate in `PLUGIN_CLIENT_CERT`. go-plugin loads the variable into a
/// cert pool, so more than one certificate is tolerated.
pub fn parse_client_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::ClientCertPem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoClientCert);
    }
    Ok(certs)
}

/// The 6th field of the handshake line. go-plugin decodes it with
/// `RawStdEncoding`, so padding would make Terraform reject the line.
pub fn handshake_cert_field(cert: &CertificateDer<'_>) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(cert.as_ref())
}

/// The crypto provider used on both sides of every handshake. `ring` lacks
/// ECDSA P-521, so the process-wide default must not be relied on.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Server TLS config: TLS 1.2/1.3, client certificate required and pinned,
/// ALPN `h2` (grpc-go >= 1.67, i.e. Terraform >= 1.12, refuses peers without it).
pub fn server_config(
    identity: ServerIdentity,
    client_certs: Vec<CertificateDer<'static>>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = crypto_provider();
    let verifier = PinnedClientCertVerifier::new(client_certs, &provider);
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![identity.cert], identity.key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts exactly the certificates Terraform handed us, nothing else.
#[derive(Debug)]
pub struct PinnedClientCertVerifier {
    allowed: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCertVerifier {
    pub fn new(allowed: Vec<CertificateDer<'static>>, provider: &CryptoProvider) -> Self {
        Self {
            allowed,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for PinnedClientCertVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    // Empty hints make the Go client send its certificate unconditionally; hinting
    // a subject it doesn't match would make it send none.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self
            .allowed
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    // This list goes into the CertificateRequest; without ECDSA_NISTP521_SHA512
    // in it the Go client silently sends no certificate.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_field_has_no_padding_and_round_trips() {
        let id = generate_server_identity().unwrap();
        let field = handshake_cert_field(&id.cert);
        assert!(!field.contains('='), "padding must be stripped: {field}");
        assert!(!field.contains('\n') && !field.contains('|'));
        // go-plugin only reads the certificate when the field is longer than 50.
        assert!(field.len() > 50);
        let back = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&field)
            .unwrap();
        assert_eq!(back, id.cert.as_ref());
    }

    #[test]
    fn verifier_offers_p521_sha512() {
        let v = PinnedClientCertVerifier::new(vec![], &crypto_provider());
        let schemes = v.supported_verify_schemes();
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP256_SHA256));
        assert!(v.client_auth_mandatory());
        assert!(v.root_hint_subjects().is_empty());
    }

    #[test]
    fn verifier_pins_exact_der() {
        let a = generate_server_identity().unwrap().cert;
        let b = generate_server_identity().unwrap().cert;
        let v = PinnedClientCertVerifier::new(vec![a.clone()], &crypto_provider());
        let now = UnixTime::now();
        assert!(v.verify_client_cert(&a, &[], now).is_ok());
        assert!(v.verify_client_cert(&b, &[], now).is_err());
    }

    #[test]
    fn client_cert_pem_parsing() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let parsed = parse_client_certs(&cert.pem()).unwrap();
        assert_eq!(parsed, vec![cert.der().clone()]);
        assert!(matches!(
            parse_client_certs("not a pem"),
            Err(TlsError::NoClientCert)
        ));
    }

    #[test]
    fn server_config_advertises_only_h2() {
        let id = generate_server_identity().unwrap();
        let client = generate_server_identity().unwrap().cert;
        let cfg = server_config(id, vec![client]).unwrap();
        assert_eq!(cfg.alpn_protocols, vec![b"h2".to_vec()]);
    }
}
