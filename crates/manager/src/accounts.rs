//! `[[auth.accounts]]`: username/password logins for the dashboard. Passwords are
//! plain text or argon2 PHC strings. A login costs exactly one argon2 verification:
//! the named account's hash, or a dummy hash for an unknown username or a plain-text
//! password (so timing does not reveal which usernames exist); username and plain-text
//! comparisons are constant-time.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use serde::{Deserialize, Serialize};

/// A dashboard login (`[[auth.accounts]]`). `password` is plain text or an argon2 PHC
/// string (`$argon2id$...`).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Account {
    pub username: String,
    pub password: String,
}

/// Is `hash` a parseable argon2 PHC string? (The message never echoes the hash.)
pub fn check_hash_syntax(hash: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(hash).map_err(|e| {
        format!("not a valid argon2 PHC string ({e}); generate one with `echo -n 'password' | wishcast hash-password`")
    })?;
    if !parsed.algorithm.as_str().starts_with("argon2") {
        return Err("only argon2 hashes are supported".into());
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(
            "the argon2 PHC string has no salt or hash; paste the whole `$argon2id$v=19$m=...$salt$hash`".into()
        );
    }
    argon2::Params::try_from(&parsed).map_err(|e| format!("invalid argon2 parameters: {e}"))?;
    Ok(())
}

/// An argon2id PHC string for `password` (the `wishcast hash-password` command).
pub fn hash_password(password: &str, salt: &[u8; 16]) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// An argon2id hash (default parameters, as `wishcast hash-password` makes) of nothing
/// anyone knows: verified when there is no account hash to verify, so every login costs
/// the same one argon2 run.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("wishcast dummy password", &[0x5a; 16]).unwrap_or_default())
}

fn argon2_matches(phc: &str, presented: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default().verify_password(presented.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// True if some account has this username and password. Only the named account's
/// password is checked (the first account of that name, as before).
pub fn verify(accounts: &[Account], username: &str, password: &str) -> bool {
    let user = digest(username);
    let mut found: Option<&Account> = None;
    for a in accounts {
        // Every name is compared, in constant time, whichever matches.
        let m = bool::from(digest(&a.username).ct_eq(&user));
        if m && found.is_none() {
            found = Some(a);
        }
    }
    match found {
        Some(a) if a.password.starts_with("$argon2") => argon2_matches(&a.password, password),
        Some(a) => {
            let _ = argon2_matches(dummy_hash(), password);
            bool::from(digest(&a.password).ct_eq(&digest(password)))
        }
        None => {
            let _ = argon2_matches(dummy_hash(), password);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    fn acc(u: &str, p: &str) -> Account {
        Account { username: u.into(), password: p.into() }
    }

    #[test]
    fn plain_and_argon2_passwords() {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let hash = Argon2::default().hash_password(b"hunter2", &salt).unwrap().to_string();
        assert!(hash.starts_with("$argon2id$"));
        check_hash_syntax(&hash).unwrap();
        let accounts = vec![acc("live777", "live777"), acc("admin", &hash)];
        assert!(verify(&accounts, "live777", "live777"));
        assert!(verify(&accounts, "admin", "hunter2"));
        assert!(!verify(&accounts, "admin", hash.as_str()), "the hash itself is not the password");
        assert!(!verify(&accounts, "admin", "live777"));
        assert!(!verify(&accounts, "live777", "hunter2"));
        assert!(!verify(&accounts, "nobody", "live777"));
        assert!(!verify(&[], "a", "b"));
        assert!(check_hash_syntax("$argon2id$garbage").is_err());
        let h = hash_password("pw", &[7; 16]).unwrap();
        assert!(verify(&[acc("u", &h)], "u", "pw"));
        // The example in docs/manager.md.
        let doc = "$argon2id$v=19$m=19456,t=2,p=1$d2lzaGNhc3QtZXhhbXBsZQ$9LqOZPFL+WJr35y2w/zhjYofj1HAU6tO2617rWPg260";
        assert!(verify(&[acc("admin", doc)], "admin", "change-me"));
    }
}
