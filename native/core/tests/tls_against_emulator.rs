//! https:// FE addresses: the sink loads through the in-process emulator serving HTTPS with a
//! certificate from a private CA when that CA is in the truststore (the PEM the shim passes), and
//! fails at once, naming the FE and that its certificate is not trusted, when it is not.

use std::collections::HashMap;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use starrocks_emulator::{EmulatorConfig, TlsPem};
use starrocks_sink_core::Delivery;
use starrocks_sink_core::log::Log;
use starrocks_sink_core::{ErrorKind, Sink};

/// A CA (its certificate as PEM) and a server certificate it signed.
struct Pki {
    ca_pem: String,
    server: TlsPem,
}

/// ... for 127.0.0.1 and localhost.
fn pki(name: &str) -> Pki {
    pki_for(name, &["127.0.0.1", "localhost"])
}

fn pki_for(name: &str, names: &[&str]) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, format!("{} test CA", name));
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "starrocks-emulator");
    let cert = leaf.signed_by(&key, &ca).unwrap();
    Pki { ca_pem: ca.pem(), server: TlsPem { cert_chain: cert.pem().into_bytes(), key: key.serialize_pem().into_bytes() } }
}

mod common;

use common::{Env, cities, document};

/// The shared `Env` on an emulator serving HTTPS with `tls`, and task settings for an
/// `https://` FE at `host` trusting `trusted_pem`.
trait TlsEnv {
    fn start(tls: TlsPem) -> Env;
    fn settings(&self, host: &str, trusted_pem: Option<&str>) -> HashMap<String, String>;
}

impl TlsEnv for Env {
    fn start(tls: TlsPem) -> Env {
        Env::start_with(EmulatorConfig { tls: Some(tls), ..EmulatorConfig::default() })
    }

    fn settings(&self, host: &str, trusted_pem: Option<&str>) -> HashMap<String, String> {
        let mut m = self.base_settings("sink-tls", format!("https://{}:{}", host, self.emu().fe_http_port));
        if let Some(pem) = trusted_pem {
            m.insert("starrocks.ssl.truststore.pem".into(), pem.to_string());
        }
        m
    }
}

#[test]
fn loads_over_https_with_a_private_ca_following_the_https_redirect() {
    let trusted = pki("trusted");
    let env = Env::start(trusted.server);
    // A bundle with an unrelated CA first: every certificate of the truststore counts.
    let bundle = format!("{}{}", pki("other").ca_pem, trusted.ca_pem);
    for (host, first) in [("127.0.0.1", 0), ("localhost", 2)] {
        let mut sink = Sink::open(&document(&env.settings(host, Some(&bundle))), Log::new(5)).unwrap();
        sink.put(&cities(first, &["Oslo", "Lima"])).unwrap();
        let offsets = sink.pre_commit().unwrap();
        assert_eq!(offsets.get(&("topic".to_string(), 0)).copied(), Some(first + 2), "via {}", host);
        sink.close();
    }
    assert_eq!(env.ids(), vec!["1", "2", "3", "4"]);
}

#[test]
fn an_untrusted_certificate_fails_at_once_naming_the_fe() {
    let env = Env::start(pki("server").server);
    for trusted in [Some(pki("unrelated").ca_pem), None] {
        // 5 retries with 10 ms backoff: a retried TLS failure would show as "after 6 attempts".
        let mut m = env.settings("127.0.0.1", trusted.as_deref());
        m.insert("sink.maxretries".into(), "5".into());
        let mut sink = Sink::open(&document(&m), Log::new(5)).unwrap();
        sink.put(&cities(0, &["Quito"])).unwrap();
        let e = sink.pre_commit().unwrap_err();
        let fe = format!("https://127.0.0.1:{}", env.emu().fe_http_port);
        assert_eq!(e.kind, ErrorKind::Load, "{}", e.message);
        assert!(e.message.contains(&format!("TLS certificate of FE {} is not trusted", fe)), "{}", e.message);
        assert!(e.message.contains("starrocks.ssl.truststore.location"), "{}", e.message);
        assert!(!e.message.contains("attempts"), "not retried: {}", e.message);
        let hint = if trusted.is_some() { "the truststore of starrocks.ssl.truststore.location must hold" } else { "built-in Mozilla roots" };
        assert!(e.message.contains(hint), "{}", e.message);
        sink.close();
    }
    assert!(env.ids().is_empty());
}

#[test]
fn a_host_name_the_certificate_does_not_name_is_not_trusted() {
    let pki = pki_for("trusted", &["127.0.0.1"]);
    let env = Env::start(pki.server);
    // A trusted CA, but the certificate names 127.0.0.1 only, and the sink asks for localhost.
    let mut sink = Sink::open(&document(&env.settings("localhost", Some(&pki.ca_pem))), Log::new(5)).unwrap();
    sink.put(&cities(0, &["Bern"])).unwrap();
    let e = sink.pre_commit();
    match e {
        Err(e) => assert!(e.message.contains("is not trusted") && e.message.contains("not valid for name \"localhost\""), "{}", e.message),
        Ok(_) => panic!("a certificate for another name was accepted"),
    }
    sink.close();
}

#[test]
fn a_truststore_pem_without_certificates_is_a_config_error() {
    let env = Env::start(pki("server").server);
    let e = Sink::open(&document(&env.settings("127.0.0.1", Some("not a certificate"))), Log::new(5)).err().expect("refused");
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.starts_with("starrocks.ssl.truststore.location"), "{}", e.message);
}
