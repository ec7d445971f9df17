use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

use crate::*;

const SECRET: &str = "wishcast-test-secret";
const NOW: u64 = 1_700_000_000;
const FAR: u64 = 1_893_456_000; // 2030-01-01

/// Produced independently of this crate with Python's standard library:
/// ```text
/// python3 -c '
/// import hmac,hashlib,base64,json
/// b=lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
/// h=b(b"{\"typ\":\"JWT\",\"alg\":\"HS256\"}")
/// p=b(json.dumps({"id":"live","exp":1893456000,"mode":6},separators=(",",":")).encode())
/// s=b(hmac.new(b"wishcast-test-secret",(h+"."+p).encode(),hashlib.sha256).digest())
/// print(h+"."+p+"."+s)'
/// ```
const PY_VECTOR: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpZCI6ImxpdmUiLCJleHAiOjE4OTM0NTYwMDAsIm1vZGUiOjZ9.emmj5bH2rcdVrxRjfAdGCiy7semYpdPKYTl-Nwrf_TI";

/// Same Python recipe, but header `{"alg":"HS256","typ":"JWT","kid":"k1"}`
/// (different key order, extra field) and payload
/// `{"mode":5,"sub":"alice","exp":1893456000,"id":"cam/1"}` (extra claim).
const PY_VECTOR_EXTRA: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJtb2RlIjo1LCJzdWIiOiJhbGljZSIsImV4cCI6MTg5MzQ1NjAwMCwiaWQiOiJjYW0vMSJ9.9JNGLlNiYzxOvN7XzSp2T2J6AViDBzalXZf1Bwi3J80";

fn claims(id: &str, exp: u64, mode: u8) -> Claims {
    Claims { id: id.into(), exp, mode }
}

fn b64(s: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// Build a token with an arbitrary header/payload, signed with HMAC-SHA256.
fn forge(header: &str, payload: &str, secret: &[u8]) -> String {
    let si = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let mut m = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    m.update(si.as_bytes());
    format!("{si}.{}", b64(&m.finalize().into_bytes()))
}

fn auth(secret: &str, tokens: &[&str]) -> Authenticator {
    Authenticator::new(&AuthConfig { secret: secret.into(), tokens: tokens.iter().map(|t| t.to_string()).collect() })
}

// ---------------------------------------------------------------- JWT

#[test]
fn sign_matches_independent_vector() {
    assert_eq!(sign_hs256(SECRET.as_bytes(), &claims("live", FAR, 6)), PY_VECTOR);
}

#[test]
fn verify_independent_vectors() {
    assert_eq!(verify_hs256(SECRET.as_bytes(), PY_VECTOR, NOW), Ok(claims("live", FAR, 6)));
    // extra header fields / claims and key order are irrelevant
    assert_eq!(verify_hs256(SECRET.as_bytes(), PY_VECTOR_EXTRA, NOW), Ok(claims("cam/1", FAR, 5)));
}

#[test]
fn roundtrip() {
    let c = claims("*", NOW + 10, 7);
    let t = sign_hs256(b"k", &c);
    assert_eq!(verify_hs256(b"k", &t, NOW), Ok(c));
}

#[test]
fn rejects_alg_none() {
    let p = r#"{"id":"*","exp":1893456000,"mode":7}"#;
    let unsigned = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(p.as_bytes()));
    assert_eq!(verify_hs256(SECRET.as_bytes(), &unsigned, NOW), Err(AuthError::Invalid("unsupported alg")));
    // "none" header even with a valid HS256 MAC
    let t = forge(r#"{"alg":"none"}"#, p, SECRET.as_bytes());
    assert_eq!(verify_hs256(SECRET.as_bytes(), &t, NOW), Err(AuthError::Invalid("unsupported alg")));
    // case variations are not HS256
    let t = forge(r#"{"alg":"hs256"}"#, p, SECRET.as_bytes());
    assert_eq!(verify_hs256(SECRET.as_bytes(), &t, NOW), Err(AuthError::Invalid("unsupported alg")));
    // missing alg
    let t = forge(r#"{"typ":"JWT"}"#, p, SECRET.as_bytes());
    assert_eq!(verify_hs256(SECRET.as_bytes(), &t, NOW), Err(AuthError::Invalid("malformed token")));
}

#[test]
fn rejects_hs512() {
    let si = format!("{}.{}", b64(br#"{"alg":"HS512","typ":"JWT"}"#), b64(br#"{"id":"*","exp":1893456000,"mode":7}"#));
    let mut m = Hmac::<Sha512>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(si.as_bytes());
    let t = format!("{si}.{}", b64(&m.finalize().into_bytes()));
    assert_eq!(verify_hs256(SECRET.as_bytes(), &t, NOW), Err(AuthError::Invalid("unsupported alg")));
}

#[test]
fn rejects_crit_header() {
    let t = forge(
        r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
        r#"{"id":"*","exp":1893456000,"mode":7}"#,
        SECRET.as_bytes(),
    );
    assert!(verify_hs256(SECRET.as_bytes(), &t, NOW).is_err());
}

#[test]
fn rejects_garbage() {
    let s = SECRET.as_bytes();
    let long = "a".repeat(10_000);
    for g in [
        "",
        ".",
        "..",
        "...",
        "abc",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
        "!!!.???.***",
        "\u{0}.\u{0}.\u{0}",
        "é.é.é",
        long.as_str(),
    ] {
        assert!(matches!(verify_hs256(s, g, NOW), Err(AuthError::Invalid(_))), "{g:?}");
    }
    // four segments built from the valid vector
    assert!(verify_hs256(s, &format!("{PY_VECTOR}.x"), NOW).is_err());
    // padded base64 is not allowed
    let (h, rest) = PY_VECTOR.split_once('.').unwrap();
    assert!(verify_hs256(s, &format!("{h}=.{rest}"), NOW).is_err());
    // header that is not JSON, signed correctly
    let t = forge("not json", r#"{"id":"*","exp":1893456000,"mode":7}"#, s);
    assert_eq!(verify_hs256(s, &t, NOW), Err(AuthError::Invalid("malformed token")));
}

#[test]
fn rejects_bad_claims() {
    let s = SECRET.as_bytes();
    let h = r#"{"typ":"JWT","alg":"HS256"}"#;
    for p in [
        "null",
        "[]",
        r#"{"id":"x","mode":7}"#,         // no exp
        r#"{"exp":1893456000,"mode":7}"#, // no id
        r#"{"id":"x","exp":1893456000}"#, // no mode
        r#"{"id":"x","exp":1893456000,"mode":256}"#,
        r#"{"id":"x","exp":1893456000,"mode":-1}"#,
        r#"{"id":"x","exp":-5,"mode":7}"#,
        r#"{"id":"x","exp":"1893456000","mode":7}"#,
        r#"{"id":7,"exp":1893456000,"mode":7}"#,
        r#"{"id":"x","id":"*","exp":1893456000,"mode":7}"#, // duplicate key
    ] {
        assert_eq!(verify_hs256(s, &forge(h, p, s), NOW), Err(AuthError::Invalid("malformed claims")), "{p}");
    }
}

#[test]
fn rejects_wrong_signature() {
    let s = SECRET.as_bytes();
    assert_eq!(verify_hs256(b"other-secret", PY_VECTOR, NOW), Err(AuthError::Invalid("bad signature")));
    // tampered payload: swap in mode 7 keeping the signature
    let parts: Vec<&str> = PY_VECTOR.split('.').collect();
    let evil = b64(br#"{"id":"live","exp":1893456000,"mode":7}"#);
    let t = format!("{}.{}.{}", parts[0], evil, parts[2]);
    assert_eq!(verify_hs256(s, &t, NOW), Err(AuthError::Invalid("bad signature")));
    // truncated / empty signature
    let t = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]);
    assert!(verify_hs256(s, &t, NOW).is_err());
    let t = format!("{}.{}.", parts[0], parts[1]);
    assert_eq!(verify_hs256(s, &t, NOW), Err(AuthError::Invalid("bad signature")));
}

#[test]
fn expiry_and_leeway() {
    let s = b"k";
    let t = sign_hs256(s, &claims("a", 1000, 7));
    assert!(verify_hs256(s, &t, 999).is_ok());
    assert!(verify_hs256(s, &t, 1000).is_ok());
    assert!(verify_hs256(s, &t, 1059).is_ok());
    assert!(verify_hs256(s, &t, 1060).is_ok()); // exactly at leeway edge
    assert_eq!(verify_hs256(s, &t, 1061), Err(AuthError::Invalid("expired")));
    assert_eq!(verify_hs256(s, &t, NOW), Err(AuthError::Invalid("expired")));
    // exp near u64::MAX does not overflow
    let t = sign_hs256(s, &claims("a", u64::MAX, 7));
    assert!(verify_hs256(s, &t, u64::MAX).is_ok());
}

// What jsonwebtoken would decide differently on its own; pinned to our rules.

#[test]
fn crit_b64_true_is_refused_too() {
    // jsonwebtoken accepts `crit: ["b64"]` with `b64: true`; we refuse every `crit`.
    let t = forge(
        r#"{"alg":"HS256","crit":["b64"],"b64":true}"#,
        r#"{"id":"*","exp":1893456000,"mode":7}"#,
        SECRET.as_bytes(),
    );
    assert_eq!(verify_hs256(SECRET.as_bytes(), &t, NOW), Err(AuthError::Invalid("unsupported header")));
}

#[test]
fn registered_claims_we_never_checked_stay_unchecked() {
    // An audience (jsonwebtoken refuses it unless told which), a future nbf and a past
    // iat are claims Live777 tokens may carry and we ignore, as before.
    let s = SECRET.as_bytes();
    let h = r#"{"typ":"JWT","alg":"HS256"}"#;
    for p in [
        r#"{"id":"cam","exp":1893456000,"mode":4,"aud":"somewhere"}"#,
        r#"{"id":"cam","exp":1893456000,"mode":4,"aud":["a","b"]}"#,
        r#"{"id":"cam","exp":1893456000,"mode":4,"nbf":1893000000}"#,
        r#"{"id":"cam","exp":1893456000,"mode":4,"iat":1,"iss":"x","sub":"y"}"#,
    ] {
        assert_eq!(verify_hs256(s, &forge(h, p, s), NOW), Ok(claims("cam", FAR, 4)), "{p}");
    }
}

#[test]
fn header_jsonwebtoken_cannot_model_is_a_malformed_token() {
    let t = forge(r#"{"alg":"HS256","kid":5}"#, r#"{"id":"*","exp":1893456000,"mode":7}"#, SECRET.as_bytes());
    assert_eq!(verify_hs256(SECRET.as_bytes(), &t, NOW), Err(AuthError::Invalid("malformed token")));
}

#[test]
fn empty_key_signs_an_unverifiable_token() {
    // jsonwebtoken refuses an empty HMAC key: the token comes back unsigned, and no
    // secret (not even a correct empty-key MAC check) accepts it.
    let t = sign_hs256(b"", &claims("*", FAR, 7));
    assert!(t.ends_with('.'), "{t}");
    assert_eq!(t.split('.').count(), 3);
    for secret in [&b"x"[..], SECRET.as_bytes()] {
        assert_eq!(verify_hs256(secret, &t, NOW), Err(AuthError::Invalid("bad signature")));
    }
    assert_eq!(verify_hs256(b"", &t, NOW), Err(AuthError::Invalid("jwt disabled")));
}

#[test]
fn tokens_we_sign_verify_with_other_leeway_edges() {
    // Signed by jsonwebtoken here, checked against the caller's clock (not the system's).
    let t = sign_hs256(SECRET.as_bytes(), &claims("live", 10, 6));
    assert_eq!(verify_hs256(SECRET.as_bytes(), &t, 0), Ok(claims("live", 10, 6)));
    assert_eq!(verify_hs256(SECRET.as_bytes(), &t, 70), Ok(claims("live", 10, 6)));
    assert_eq!(verify_hs256(SECRET.as_bytes(), &t, 71), Err(AuthError::Invalid("expired")));
}

#[test]
fn empty_secret_rejects_jwt() {
    // even a token correctly "signed" with the empty key
    let t = sign_hs256(b"", &claims("*", FAR, 7));
    assert_eq!(verify_hs256(b"", &t, NOW), Err(AuthError::Invalid("jwt disabled")));
    // static-token-only authenticator never accepts JWTs
    let a = auth("", &["static"]);
    assert_eq!(a.authenticate(Some(&t), NOW), Err(AuthError::Invalid("unknown token")));
    assert_eq!(a.mint(&claims("*", FAR, 7)), None);
}

// ---------------------------------------------------------------- Authenticator

#[test]
fn auth_off_only_without_tokens_and_secret() {
    let off = auth("", &[]);
    assert!(!off.enabled());
    assert_eq!(off.authenticate(None, NOW), Ok(Principal::Open));
    assert_eq!(off.authenticate(Some("anything"), NOW), Ok(Principal::Open));
    assert!(!AuthConfig::default().enabled());

    let secret_only = auth(SECRET, &[]);
    assert!(secret_only.enabled());
    assert_eq!(secret_only.authenticate(None, NOW), Err(AuthError::Missing));
    assert_eq!(secret_only.authenticate(Some(""), NOW), Err(AuthError::Missing));
    assert_eq!(secret_only.authenticate(Some("anything"), NOW), Err(AuthError::Invalid("malformed token")));
    assert_eq!(secret_only.authenticate(Some(PY_VECTOR), NOW), Ok(Principal::Jwt(claims("live", FAR, 6))));

    let tokens_only = auth("", &["t1"]);
    assert!(tokens_only.enabled());
    assert_eq!(tokens_only.authenticate(None, NOW), Err(AuthError::Missing));
    assert_eq!(tokens_only.authenticate(Some(PY_VECTOR), NOW), Err(AuthError::Invalid("unknown token")));
}

#[test]
fn static_tokens() {
    let a = auth(SECRET, &["alpha", "beta-longer-token"]);
    assert_eq!(a.authenticate(Some("alpha"), NOW), Ok(Principal::StaticToken));
    assert_eq!(a.authenticate(Some("beta-longer-token"), NOW), Ok(Principal::StaticToken));
    for bad in ["alph", "alphaa", "ALPHA", "beta", " alpha"] {
        assert!(matches!(a.authenticate(Some(bad), NOW), Err(AuthError::Invalid(_))), "{bad}");
    }
    assert!(Principal::StaticToken.is_admin());
    // JWT still works alongside static tokens
    assert!(matches!(a.authenticate(Some(PY_VECTOR), NOW), Ok(Principal::Jwt(_))));
    // a static token that happens to look like a JWT is matched as static first
    let b = auth(SECRET, &[PY_VECTOR]);
    assert_eq!(b.authenticate(Some(PY_VECTOR), NOW), Ok(Principal::StaticToken));
}

#[test]
fn empty_configured_token_fails_closed() {
    let cfg = AuthConfig { secret: String::new(), tokens: vec![String::new()] };
    assert!(cfg.validate().is_err());
    let a = Authenticator::new(&cfg);
    assert!(a.enabled());
    assert_eq!(a.authenticate(Some(""), NOW), Err(AuthError::Missing));
    assert!(a.authenticate(Some("x"), NOW).is_err());
    assert!(AuthConfig { secret: String::new(), tokens: vec!["a b".into()] }.validate().is_err());
    assert!(AuthConfig { secret: "s".into(), tokens: vec!["ok".into()] }.validate().is_ok());
}

#[test]
fn mint_and_authenticate() {
    let a = auth(SECRET, &[]);
    let t = a.mint(&claims("live", FAR, 6)).unwrap();
    assert_eq!(t, PY_VECTOR);
    let expired = a.mint(&claims("live", NOW - 61, 6)).unwrap();
    assert_eq!(a.authenticate(Some(&expired), NOW), Err(AuthError::Invalid("expired")));
    let other = auth("different", &[]);
    assert_eq!(other.authenticate(Some(&t), NOW), Err(AuthError::Invalid("bad signature")));
}

#[test]
fn debug_and_errors_never_leak_secrets() {
    let secret = "sup3r-s3cret-key";
    let tok = "st4tic-t0ken-value";
    let cfg = AuthConfig { secret: secret.into(), tokens: vec![tok.into(), "second-t0ken".into()] };
    let a = Authenticator::new(&cfg);
    let outputs = [
        format!("{cfg:?}"),
        format!("{cfg:#?}"),
        format!("{a:?}"),
        format!("{a:#?}"),
        format!("{:?}", a.authenticate(Some("wr0ng-presented-t0ken"), NOW)),
        format!("{}", a.authenticate(Some("wr0ng-presented-t0ken"), NOW).unwrap_err()),
        format!("{}", a.authenticate(Some("x.y.z"), NOW).unwrap_err()),
    ];
    for o in &outputs {
        for needle in [secret, tok, "second-t0ken", "wr0ng-presented-t0ken", "x.y.z"] {
            assert!(!o.contains(needle), "{o} leaks {needle}");
        }
    }
    assert!(outputs[0].contains("<redacted>"));
    assert!(outputs[2].contains("<redacted>"));
}

#[test]
fn config_deserializes_with_defaults() {
    let c: AuthConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(c, AuthConfig::default());
    let c: AuthConfig = serde_json::from_str(r#"{"secret":"s"}"#).unwrap();
    assert_eq!(c.secret, "s");
    assert!(c.tokens.is_empty());
}

// ---------------------------------------------------------------- token sources

#[test]
fn bearer_header_parsing() {
    assert_eq!(bearer_token("Bearer abc"), Some("abc"));
    assert_eq!(bearer_token("bearer abc"), Some("abc"));
    assert_eq!(bearer_token("BEARER   abc  "), Some("abc"));
    assert_eq!(bearer_token("  Bearer\tabc"), Some("abc"));
    assert_eq!(bearer_token("Bearer"), None);
    assert_eq!(bearer_token("Bearer "), None);
    assert_eq!(bearer_token("Basic abc"), None);
    assert_eq!(bearer_token("Bearerabc"), None);
    assert_eq!(bearer_token("Bearer a b"), None);
    assert_eq!(bearer_token(""), None);
    assert_eq!(bearer_token(&format!("Bearer {PY_VECTOR}")), Some(PY_VECTOR));
}

#[test]
fn query_token_parsing() {
    assert_eq!(query_token("token=abc").as_deref(), Some("abc"));
    assert_eq!(query_token("?token=abc").as_deref(), Some("abc"));
    assert_eq!(query_token("a=1&token=x%2Fy%3d&b=2").as_deref(), Some("x/y="));
    assert_eq!(query_token("token=a+b").as_deref(), Some("a+b"));
    assert_eq!(query_token("token=%C3%A9").as_deref(), Some("é"));
    assert_eq!(query_token("tok%65n=v").as_deref(), Some("v"));
    assert_eq!(query_token("token=first&token=second").as_deref(), Some("first"));
    assert_eq!(query_token("mytoken=abc"), None);
    assert_eq!(query_token("token"), None);
    assert_eq!(query_token("token="), None);
    assert_eq!(query_token("token=%"), None);
    assert_eq!(query_token("token=%4"), None);
    assert_eq!(query_token("token=%zz"), None);
    assert_eq!(query_token("token=%FF"), None); // not UTF-8
    assert_eq!(query_token(""), None);
    assert_eq!(query_token(&format!("token={PY_VECTOR}")).as_deref(), Some(PY_VECTOR));
}

#[test]
fn request_token_prefers_header() {
    assert_eq!(request_token(Some("Bearer h"), Some("token=q")).as_deref(), Some("h"));
    assert_eq!(request_token(None, Some("token=q")).as_deref(), Some("q"));
    assert_eq!(request_token(Some("Basic x"), Some("token=q")), None);
    assert_eq!(request_token(None, None), None);
}

// ---------------------------------------------------------------- authorization matrix

#[test]
fn authorization_matrix() {
    const S: &str = "cam1";
    let jwt = |id: &str, mode: u8| Principal::Jwt(claims(id, FAR, mode));
    let principals: [(&str, Principal); 9] = [
        ("Open", Principal::Open),
        ("Static", Principal::StaticToken),
        ("S/7", jwt(S, 7)),
        ("S/4", jwt(S, 4)),
        ("S/2", jwt(S, 2)),
        ("S/0", jwt(S, 0)),
        ("other/7", jwt("cam2", 7)),
        ("*/4", jwt("*", 4)),
        ("*/7", jwt("*", 7)),
    ];
    let accesses: [Access; 10] = [
        Access::Publish(S),
        Access::Subscribe(S),
        Access::Session(S),
        Access::StreamRead(S),
        Access::StreamDelete(S),
        Access::Cascade(S),
        Access::RecordStart(S),
        Access::RecordRead(S),
        Access::RecordStop(S),
        Access::Admin,
    ];
    // 1 = allow, 0 = deny. Columns follow `principals`:
    //                     Open Static S/7 S/4 S/2 S/0 oth/7 */4 */7
    let expected: [[u8; 9]; 10] = [
        /* Publish      */ [1, 1, 1, 0, 1, 0, 0, 0, 1],
        /* Subscribe    */ [1, 1, 1, 1, 0, 0, 0, 1, 1],
        /* Session      */ [1, 1, 1, 1, 1, 0, 0, 1, 1],
        /* StreamRead   */ [1, 1, 1, 1, 1, 1, 0, 1, 1],
        /* StreamDelete */ [1, 1, 1, 0, 0, 0, 0, 0, 1],
        /* Cascade      */ [1, 1, 1, 0, 0, 0, 0, 0, 1],
        /* RecordStart  */ [1, 1, 1, 0, 0, 0, 0, 0, 1],
        /* RecordRead   */ [1, 1, 1, 1, 0, 0, 0, 1, 1],
        /* RecordStop   */ [1, 1, 1, 0, 0, 0, 0, 0, 1],
        /* Admin        */ [1, 1, 0, 0, 0, 0, 0, 0, 1],
    ];
    let mut failures = Vec::new();
    for (ai, access) in accesses.iter().enumerate() {
        for (pi, (name, p)) in principals.iter().enumerate() {
            let got = p.authorize(access).is_ok();
            if got != (expected[ai][pi] == 1) {
                failures.push(format!("{access:?} × {name}: got {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "matrix mismatches:\n{}", failures.join("\n"));

    let admins: Vec<bool> = principals.iter().map(|(_, p)| p.is_admin()).collect();
    assert_eq!(admins, [true, true, false, false, false, false, false, false, true]);
}

#[test]
fn authorization_edge_cases() {
    let jwt = |id: &str, mode: u8| Principal::Jwt(claims(id, FAR, mode));
    // x alone on a stream allows session ops and stream admin, not publish/subscribe
    let x = jwt("s", 1);
    assert!(x.authorize(&Access::Session("s")).is_ok());
    assert!(x.authorize(&Access::StreamDelete("s")).is_ok());
    assert!(x.authorize(&Access::Publish("s")).is_err());
    assert!(x.authorize(&Access::Subscribe("s")).is_err());
    // `*` with mode 0 is not admin (Live777 would treat it as one)
    let star0 = jwt("*", 0);
    assert!(!star0.is_admin());
    assert!(star0.authorize(&Access::Admin).is_err());
    assert!(star0.authorize(&Access::Publish("s")).is_err());
    // `*` with x only is a full admin
    assert!(jwt("*", 1).authorize(&Access::Publish("s")).is_ok());
    // high bits beyond rwx grant nothing
    let hi = jwt("s", 0xF8);
    for a in [Access::Publish("s"), Access::Subscribe("s"), Access::Session("s"), Access::StreamDelete("s")] {
        assert!(hi.authorize(&a).is_err());
    }
    // stream matching is exact: no prefix, case or empty-id tricks
    let p = jwt("cam", 7);
    for s in ["cam2", "Cam", "ca", "cam/", ""] {
        assert!(p.authorize(&Access::Publish(s)).is_err(), "{s}");
    }
    assert!(jwt("", 7).authorize(&Access::Publish("")).is_err());
    // messages
    assert_eq!(
        jwt("s", 4).authorize(&Access::Publish("s")),
        Err(Forbidden("token does not grant publish on this stream"))
    );
    assert_eq!(AuthError::Missing.status_code(), 401);
    assert_eq!(Forbidden("x").status_code(), 403);
}
