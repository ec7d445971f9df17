//! `wishcast_auth` token handling on arbitrary text: JWT verification (raw, and
//! with fuzzer-chosen header/claims JSON under a *valid* signature so the
//! decoding past the MAC is reached), header/query extraction, and
//! `Authenticator::authenticate` + `Principal::authorize`.
//!
//! Input (lossy UTF-8): `A \n B \n C` — A is the token / header value / query,
//! B and C are the JWT header and claims JSON for the signed variant.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use wishcast_auth::{
    Access, AuthConfig, AuthError, Authenticator, Principal, bearer_token, query_token,
    request_token, sign_hs256, verify_hs256,
};

const SECRET: &[u8] = b"secret";
const NOW: u64 = 1_700_000_000;
const STATIC: &str = "static-token";

fn sign(header: &str, claims: &str) -> String {
    let mut t = URL_SAFE_NO_PAD.encode(header);
    t.push('.');
    t.push_str(&URL_SAFE_NO_PAD.encode(claims));
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(SECRET).unwrap();
    m.update(t.as_bytes());
    t.push('.');
    t.push_str(&URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()));
    t
}

fn check_verify(token: &str) {
    match verify_hs256(SECRET, token, NOW) {
        Ok(c) => {
            assert!(c.exp.saturating_add(60) >= NOW);
            // What verifies re-signs to a token that verifies to the same claims.
            let again = sign_hs256(SECRET, &c);
            assert_eq!(verify_hs256(SECRET, &again, NOW).unwrap(), c);
            // Another key never accepts it.
            assert!(verify_hs256(b"other", token, NOW).is_err());
        }
        Err(e) => {
            assert_eq!(e.status_code(), 401);
            assert!(!e.to_string().is_empty());
        }
    }
    assert!(verify_hs256(b"", token, NOW).is_err());
}

fn check_principal(p: &Principal) {
    let _ = p.is_admin();
    for s in ["", "*", "cam", "other"] {
        for a in [
            Access::Publish(s),
            Access::Subscribe(s),
            Access::Session(s),
            Access::StreamRead(s),
            Access::StreamDelete(s),
            Access::Cascade(s),
            Access::RecordStart(s),
            Access::RecordRead(s),
            Access::RecordStop(s),
            Access::Admin,
        ] {
            if let Err(f) = p.authorize(&a) {
                assert_eq!(f.status_code(), 403);
                assert!(!matches!(p, Principal::Open | Principal::StaticToken));
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let a = parts.next().unwrap_or("");
    let header = parts.next();
    let claims = parts.next();

    check_verify(a);
    let signed = header.map(|h| sign(h, claims.unwrap_or("")));
    if let Some(t) = &signed {
        check_verify(t);
    }

    // Token sources.
    let b = bearer_token(a);
    if let Some(t) = b {
        assert!(!t.is_empty() && !t.chars().any(char::is_whitespace));
        assert!(a.len() >= t.len() + 7);
    }
    let q = query_token(a);
    if let Some(t) = &q {
        assert!(!t.is_empty());
    }
    assert_eq!(request_token(Some(a), Some("token=x")), b.map(str::to_owned));
    assert_eq!(request_token(None, Some(a)), q);
    assert_eq!(request_token(None, None), None);

    // Authentication: auth on (secret + one static token), and auth off.
    let cfg = AuthConfig { secret: "secret".into(), tokens: vec![STATIC.into(), String::new()] };
    let auth = Authenticator::new(&cfg);
    let mut candidates: Vec<&str> = vec![a];
    if let Some(t) = b {
        candidates.push(t);
    }
    if let Some(t) = &q {
        candidates.push(t);
    }
    if let Some(t) = &signed {
        candidates.push(t);
    }
    for t in candidates {
        match auth.authenticate(Some(t), NOW) {
            Ok(Principal::StaticToken) => assert_eq!(t, STATIC),
            Ok(Principal::Jwt(c)) => {
                assert_eq!(verify_hs256(SECRET, t, NOW).unwrap(), c);
                check_principal(&Principal::Jwt(c));
            }
            Ok(Principal::Open) => panic!("auth is enabled"),
            Err(AuthError::Missing) => assert!(t.is_empty()),
            Err(e) => assert_eq!(e.status_code(), 401),
        }
    }
    let open = Authenticator::new(&AuthConfig::default());
    assert_eq!(open.authenticate(Some(a), NOW).unwrap(), Principal::Open);
    check_principal(&Principal::Open);
    let _ = cfg.validate();
    let _ = AuthConfig { secret: String::new(), tokens: vec![a.to_string()] }.validate();
});
