//! DTLS 1.2 server (dimpl, ECDSA certificate) with a client that authenticates
//! with an RSA-2048 certificate: OpenSSL's `s_client` (the same library
//! GStreamer's webrtcbin uses for DTLS-SRTP) over UDP on 127.0.0.1.
//!
//! Covers CertificateVerify signed with RSA PKCS#1 v1.5 (0x0401), with
//! RSA-PSS (0x0804), with OpenSSL's own choice, and the ECDSA client
//! certificate that worked before. Needs the `openssl` command line tool; the
//! test fails (never skips) without it.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dimpl::{Config, Dtls, DtlsCertificate, Output};

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("dimpl-rsa-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).expect("temp dir");
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `openssl` (install the openssl package): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed client certificate; returns (cert.pem, key.pem, cert DER).
fn client_cert(dir: &Path, key_args: &[&str]) -> (PathBuf, PathBuf, Vec<u8>) {
    let (cert, key, der) = (dir.join("c.pem"), dir.join("k.pem"), dir.join("c.der"));
    let mut args = vec![
        "req",
        "-x509",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=webrtc-client",
    ];
    args.extend_from_slice(key_args);
    args.extend_from_slice(&[
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]);
    openssl(&args);
    openssl(&[
        "x509",
        "-in",
        cert.to_str().unwrap(),
        "-outform",
        "DER",
        "-out",
        der.to_str().unwrap(),
    ]);
    let der = std::fs::read(der).expect("cert DER");
    (cert, key, der)
}

/// Runs a dimpl DTLS 1.2 server until `s_client` (with `extra` options and the
/// given client certificate) has connected; returns the client certificate
/// dimpl reports, or the handshake error.
fn handshake(key_args: &[&str], extra: &[&str]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let dir = Dir::new("hs");
    let (cert, key, der) = client_cert(&dir.0, key_args);

    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let port = sock.local_addr().unwrap().port().to_string();
    let connect = format!("127.0.0.1:{port}");
    let mut args = vec![
        "s_client",
        "-dtls1_2",
        "-connect",
        &connect,
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
        "-use_srtp",
        "SRTP_AES128_CM_SHA1_80",
        "-quiet",
    ];
    args.extend_from_slice(extra);
    let child = Command::new("openssl")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `openssl s_client`: {e}"));
    let _child = Kill(child);

    let server_cert = dimpl::certificate::generate_self_signed_certificate().expect("server cert");
    let config = Arc::new(Config::builder().build().expect("config"));
    assert!(config.require_client_certificate());
    let mut dtls = Dtls::new_12(
        config,
        DtlsCertificate {
            certificate: server_cert.certificate,
            private_key: server_cert.private_key,
        },
        Instant::now(),
    );
    dtls.set_active(false);
    // dimpl expects a first timeout before any packet (it sets up its randoms there).
    dtls.handle_timeout(Instant::now())
        .map_err(|e| e.to_string())?;

    let mut peer: Option<SocketAddr> = None;
    let (mut connected, mut peer_cert) = (false, None::<Vec<u8>>);
    let mut next_timeout: Option<Instant> = None;
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(connected && peer_cert.is_some()) {
        if Instant::now() > deadline {
            return Err("no handshake within 20 s".into());
        }
        if let Ok((n, from)) = sock.recv_from(&mut rx) {
            peer = Some(from);
            dtls.handle_packet(&rx[..n]).map_err(|e| e.to_string())?;
        }
        let now = Instant::now();
        if next_timeout.is_some_and(|t| now >= t) {
            dtls.handle_timeout(now).map_err(|e| e.to_string())?;
        }
        loop {
            match dtls.poll_output(&mut tx) {
                Output::Packet(p) => {
                    if let Some(to) = peer {
                        sock.send_to(p, to).expect("send");
                    }
                }
                Output::Timeout(t) => {
                    next_timeout = Some(t);
                    break;
                }
                Output::Connected => connected = true,
                Output::PeerCert(c) => peer_cert = Some(c.to_vec()),
                _ => {}
            }
        }
    }
    Ok((peer_cert.unwrap_or_default(), der))
}

const RSA2048: &[&str] = &["-newkey", "rsa:2048"];

fn assert_handshake(key_args: &[&str], extra: &[&str]) {
    match handshake(key_args, extra) {
        Ok((got, want)) => assert_eq!(got, want, "dimpl reports the client's certificate"),
        Err(e) => panic!("handshake with {key_args:?} {extra:?} failed: {e}"),
    }
}

#[test]
fn rsa_client_certificate_pkcs1_sha256() {
    assert_handshake(RSA2048, &["-client_sigalgs", "RSA+SHA256"]);
}

#[test]
fn rsa_client_certificate_pkcs1_sha384() {
    assert_handshake(RSA2048, &["-client_sigalgs", "RSA+SHA384"]);
}

#[test]
fn rsa_client_certificate_pss_rsae_sha256() {
    assert_handshake(RSA2048, &["-client_sigalgs", "rsa_pss_rsae_sha256"]);
}

/// What GStreamer's webrtcbin does: an RSA-2048 certificate and OpenSSL's
/// default signature algorithm choice.
#[test]
fn rsa_client_certificate_openssl_default() {
    assert_handshake(RSA2048, &[]);
}

#[test]
fn ecdsa_client_certificate_still_works() {
    assert_handshake(
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
        &[],
    );
}
