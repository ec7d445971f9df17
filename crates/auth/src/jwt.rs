//! HS256 JWT (RFC 7519) signing and verification, Live777-compatible, on
//! `jsonwebtoken` (aws-lc-rs backend). Our part: the claims, the HS256 pin with
//! the error each bad header gets, the size cap, the empty-secret rule and the
//! expiry check against the caller's clock.

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::{Deserialize, Serialize};

use crate::AuthError;

/// `r`: subscribe (WHEP), read recordings.
pub const MODE_SUBSCRIBE: u8 = 4;
/// `w`: publish (WHIP).
pub const MODE_PUBLISH: u8 = 2;
/// `x`: admin operations on the stream (delete, cascade, recording control);
/// with `id = "*"` it makes the token a full admin.
pub const MODE_ADMIN: u8 = 1;

/// Allowed clock skew when checking `exp`, as in Live777.
pub const JWT_LEEWAY_SECS: u64 = 60;

/// Tokens longer than this are rejected before any decoding work.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The header we issue (jsonwebtoken's `Header::new(HS256)` serializes to the same
/// bytes); used as is for the unsigned token of an empty key.
const HEADER_JSON: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

/// JWT claims. Unknown extra claims are ignored when decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Stream id, or `"*"` for every stream.
    pub id: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Permission bits, see [`MODE_SUBSCRIBE`], [`MODE_PUBLISH`], [`MODE_ADMIN`].
    pub mode: u8,
}

/// The two header fields we decide on before handing the token to jsonwebtoken:
/// it cannot tell `alg: "none"` from a missing `alg` (both fail to parse), and it
/// accepts `crit: ["b64"]`, which we refuse like any `crit`.
#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// HS256 only; `exp` is checked by [`verify_hs256`] against the caller's clock
/// (jsonwebtoken would read the system clock) and required by [`Claims`] itself;
/// `aud` is not ours to check (Live777 tokens carry none).
static VALIDATION: LazyLock<Validation> = LazyLock::new(|| {
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    v
});

/// jsonwebtoken picks its crypto backend from its features, and panics on first use
/// if it cannot (both backends unified into one build, or none). Install ours
/// explicitly so that can never happen; `false` only if no provider is usable.
fn provider_ready() -> bool {
    use jsonwebtoken::crypto::CryptoProvider;
    static READY: LazyLock<bool> = LazyLock::new(|| {
        CryptoProvider::try_get_default().is_some()
            || jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default().is_ok()
            || CryptoProvider::try_get_default().is_some()
    });
    *READY
}

/// Sign `claims` as a compact HS256 JWT. jsonwebtoken refuses an empty key, so for
/// one this returns the token with an empty signature, which nothing verifies; use
/// [`crate::Authenticator::mint`] to refuse an unset secret.
pub fn sign_hs256(secret: &[u8], claims: &Claims) -> String {
    let signed = EncodingKey::from_secret(secret)
        .ok()
        .filter(|_| provider_ready())
        .and_then(|key| jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), claims, &key).ok());
    signed.unwrap_or_else(|| {
        // Serializing a struct of String/u64/u8 cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut out = URL_SAFE_NO_PAD.encode(HEADER_JSON);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut out);
        out.push('.');
        out
    })
}

/// Verify a compact HS256 JWT and return its claims.
///
/// Rejects: an empty secret, anything but exactly three base64url (unpadded,
/// canonical) segments, a header whose `alg` is not exactly `HS256` (so `none`,
/// `HS512`, ... are refused), any `crit` header, a wrong signature (compared in
/// constant time), claims missing `id`/`exp`/`mode`, and tokens with
/// `exp + 60 < now`.
pub fn verify_hs256(secret: &[u8], token: &str, now_unix: u64) -> Result<Claims, AuthError> {
    const MALFORMED: AuthError = AuthError::Invalid("malformed token");
    if secret.is_empty() {
        return Err(AuthError::Invalid("jwt disabled"));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(MALFORMED);
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(MALFORMED);
    };
    let header_bytes = URL_SAFE_NO_PAD.decode(h64).map_err(|_| MALFORMED)?;
    let header: Header = serde_json::from_slice(&header_bytes).map_err(|_| MALFORMED)?;
    if header.alg != "HS256" {
        return Err(AuthError::Invalid("unsupported alg"));
    }
    if header.crit.is_some() {
        return Err(AuthError::Invalid("unsupported header"));
    }
    // jsonwebtoken's own header model is stricter than ours (typed `kid`, `jwk`...):
    // a header it refuses is a malformed token, not malformed claims.
    jsonwebtoken::decode_header(token).map_err(|_| MALFORMED)?;
    let key = DecodingKey::from_secret(secret).map_err(|_| AuthError::Invalid("jwt disabled"))?;
    if !provider_ready() {
        return Err(AuthError::Invalid("jwt unavailable"));
    }
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &VALIDATION)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => AuthError::Invalid("bad signature"),
            ErrorKind::InvalidAlgorithm => AuthError::Invalid("unsupported alg"),
            // The header parsed above, so a JSON error is in the claims.
            ErrorKind::Json(_) => AuthError::Invalid("malformed claims"),
            _ => MALFORMED,
        })?
        .claims;
    if claims.exp.saturating_add(JWT_LEEWAY_SECS) < now_unix {
        return Err(AuthError::Invalid("expired"));
    }
    Ok(claims)
}
