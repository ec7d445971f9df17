//! `[[auth.accounts]]`: username/password logins for the dashboard. Passwords are
//! plain text or argon2 PHC strings; comparisons are constant-time and every account
//! is checked, so timing does not reveal which usernames exist.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

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

fn password_matches(stored: &str, presented: &str) -> bool {
    if stored.starts_with("$argon2") {
        match PasswordHash::new(stored) {
            Ok(h) => Argon2::default().verify_password(presented.as_bytes(), &h).is_ok(),
            Err(_) => false,
        }
    } else {
        bool::from(digest(stored).ct_eq(&digest(presented)))
    }
}

/// True if some account has this username and password.
pub fn verify(accounts: &[Account], username: &str, password: &str) -> bool {
    let user = digest(username);
    let mut ok = Choice::from(0u8);
    for a in accounts {
        let name_ok = digest(&a.username).ct_eq(&user);
        // Evaluate the password for every account so the time does not depend on
        // which username matched (argon2 cost is per account, not per match).
        let pw_ok = Choice::from(password_matches(&a.password, password) as u8);
        ok |= name_ok & pw_ok;
    }
    bool::from(ok)
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
