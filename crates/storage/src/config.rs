//! `[recorder.storage]`: where recordings go, with Live777's key names. One flat table
//! whose `type` picks the backend (`fs`, the default, `s3` or `oss`); keys that belong
//! to another backend are an error, so a forgotten `type = "s3"` cannot silently
//! write to the local disk. `Debug` never prints secrets.

use serde::Deserialize;
use std::fmt;

/// Backend kind (`type` key).
#[derive(Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    #[default]
    Fs,
    S3,
    Oss,
}

impl StorageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Fs => "fs",
            StorageKind::S3 => "s3",
            StorageKind::Oss => "oss",
        }
    }
}

/// `[recorder.storage]` (Live777 keys). Empty strings mean "not set".
#[derive(Deserialize, Clone, Default, PartialEq)]
#[serde(default)]
pub struct StorageConfig {
    #[serde(rename = "type")]
    pub kind: StorageKind,
    /// fs: directory (default `./storage`); s3/oss: key prefix inside the bucket (default `/`).
    pub root: Option<String>,
    pub bucket: String,
    /// s3 signing region. Defaults to `us-east-1` when `endpoint` is set, else to the
    /// `AWS_REGION` environment variable.
    pub region: String,
    pub endpoint: String,
    pub access_key_id: String,
    /// s3 secret.
    pub secret_access_key: String,
    pub session_token: String,
    /// oss secret.
    pub access_key_secret: String,
    /// s3: do not read credentials/region from the environment or `~/.aws`.
    pub disable_config_load: bool,
    /// s3: `https://bucket.host/key` instead of path style `https://host/bucket/key`.
    pub enable_virtual_host_style: bool,
}

impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |s: &str| if s.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("StorageConfig")
            .field("type", &self.kind)
            .field("root", &self.root)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &set(&self.secret_access_key))
            .field("session_token", &set(&self.session_token))
            .field("access_key_secret", &set(&self.access_key_secret))
            .field("disable_config_load", &self.disable_config_load)
            .field("enable_virtual_host_style", &self.enable_virtual_host_style)
            .finish()
    }
}

impl StorageConfig {
    /// A local-directory store rooted at `root`.
    pub fn fs(root: impl Into<String>) -> StorageConfig {
        StorageConfig { root: Some(root.into()), ..StorageConfig::default() }
    }

    /// The fs root (default `./storage`) or the bucket prefix (default `/`).
    pub fn root_or_default(&self) -> &str {
        match (&self.root, self.kind) {
            (Some(r), _) if !r.is_empty() => r,
            (_, StorageKind::Fs) => "./storage",
            _ => "/",
        }
    }

    /// Check the keys for the chosen `type`. `key_prefix` is where the table sits in
    /// the config file (e.g. `recorder.storage`); errors name the full key.
    pub fn validate(&self, key_prefix: &str) -> Result<(), String> {
        let key = |k: &str| {
            if key_prefix.is_empty() { format!("config key `{k}`") } else { format!("config key `{key_prefix}.{k}`") }
        };
        let ty = self.kind.as_str();
        let required = |k: &str, v: &str| -> Result<(), String> {
            if v.trim().is_empty() { Err(format!("{}: required for type = \"{ty}\"", key(k))) } else { Ok(()) }
        };
        let foreign = |k: &str, set: bool, owners: &str| -> Result<(), String> {
            if set {
                Err(format!(
                    "{}: only used with type = {owners}, but type = \"{ty}\"; set `type` or remove the key",
                    key(k)
                ))
            } else {
                Ok(())
            }
        };
        if matches!(&self.root, Some(r) if r.is_empty()) && self.kind == StorageKind::Fs {
            return Err(format!("{}: empty; give a directory such as \"./storage\"", key("root")));
        }
        let s3_only = [
            ("region", !self.region.is_empty()),
            ("secret_access_key", !self.secret_access_key.is_empty()),
            ("session_token", !self.session_token.is_empty()),
            ("disable_config_load", self.disable_config_load),
            ("enable_virtual_host_style", self.enable_virtual_host_style),
        ];
        let remote = [
            ("bucket", !self.bucket.is_empty()),
            ("endpoint", !self.endpoint.is_empty()),
            ("access_key_id", !self.access_key_id.is_empty()),
        ];
        match self.kind {
            StorageKind::Fs => {
                for (k, set) in remote {
                    foreign(k, set, "\"s3\" or \"oss\"")?;
                }
                for (k, set) in s3_only {
                    foreign(k, set, "\"s3\"")?;
                }
                foreign("access_key_secret", !self.access_key_secret.is_empty(), "\"oss\"")?;
            }
            StorageKind::S3 => {
                required("bucket", &self.bucket)?;
                foreign(
                    "access_key_secret",
                    !self.access_key_secret.is_empty(),
                    "\"oss\" (s3 uses `secret_access_key`)",
                )?;
                if self.access_key_id.is_empty() != self.secret_access_key.is_empty() {
                    let missing = if self.access_key_id.is_empty() { "access_key_id" } else { "secret_access_key" };
                    return Err(format!("{}: required when the other key of the pair is set", key(missing)));
                }
                if !self.session_token.is_empty() && self.access_key_id.is_empty() {
                    return Err(format!("{}: needs `access_key_id` and `secret_access_key`", key("session_token")));
                }
                if !self.endpoint.is_empty() {
                    check_url(&self.endpoint).map_err(|e| format!("{}: {e}", key("endpoint")))?;
                }
                if self.disable_config_load && self.endpoint.is_empty() && self.region.is_empty() {
                    return Err(format!(
                        "{}: required when `disable_config_load = true` and no `endpoint` is set",
                        key("region")
                    ));
                }
            }
            StorageKind::Oss => {
                required("bucket", &self.bucket)?;
                required("endpoint", &self.endpoint)?;
                check_url(&self.endpoint).map_err(|e| format!("{}: {e}", key("endpoint")))?;
                for (k, set) in s3_only {
                    let owners =
                        if k == "secret_access_key" { "\"s3\" (oss uses `access_key_secret`)" } else { "\"s3\"" };
                    foreign(k, set, owners)?;
                }
                if self.access_key_id.is_empty() != self.access_key_secret.is_empty() {
                    let missing = if self.access_key_id.is_empty() { "access_key_id" } else { "access_key_secret" };
                    return Err(format!("{}: required when the other key of the pair is set", key(missing)));
                }
            }
        }
        Ok(())
    }
}

fn check_url(s: &str) -> Result<(), String> {
    let rest = s.strip_prefix("http://").or_else(|| s.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!("`{s}` is not an http(s) URL; write e.g. \"http://127.0.0.1:9000\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> StorageConfig {
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn default_is_fs_storage() {
        let c = parse("");
        assert_eq!(c.kind, StorageKind::Fs);
        assert_eq!(c.root_or_default(), "./storage");
        assert_eq!(c.validate("recorder.storage"), Ok(()));
        let s3 = parse("type = \"s3\"\nbucket = \"b\"");
        assert_eq!(s3.root_or_default(), "/");
    }

    #[test]
    fn s3_full_config_is_valid() {
        let c = parse(
            r#"type = "s3"
bucket = "rec"
root = "/live"
region = "us-east-1"
endpoint = "http://127.0.0.1:9000"
access_key_id = "AK"
secret_access_key = "SECRET-S3"
session_token = "TOKEN-S3"
disable_config_load = true
enable_virtual_host_style = false"#,
        );
        assert_eq!(c.validate("recorder.storage"), Ok(()));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("SECRET-S3") && !dbg.contains("TOKEN-S3"), "{dbg}");
        assert!(dbg.contains("<redacted>") && dbg.contains("AK"), "{dbg}");
    }

    #[test]
    fn oss_secret_is_not_in_debug() {
        let c = parse(
            "type = \"oss\"\nbucket = \"b\"\nendpoint = \"https://oss-cn-hangzhou.aliyuncs.com\"\naccess_key_id = \"id\"\naccess_key_secret = \"OSS-SECRET\"",
        );
        assert_eq!(c.validate("recorder.storage"), Ok(()));
        assert!(!format!("{c:?}").contains("OSS-SECRET"));
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("type = \"s3\"", "config key `recorder.storage.bucket`: required for type = \"s3\""),
            ("type = \"oss\"\nbucket = \"b\"", "config key `recorder.storage.endpoint`: required for type = \"oss\""),
            ("bucket = \"b\"", "config key `recorder.storage.bucket`: only used with type = \"s3\" or \"oss\""),
            ("region = \"x\"", "config key `recorder.storage.region`: only used with type = \"s3\""),
            ("root = \"\"", "config key `recorder.storage.root`: empty"),
            (
                "type = \"s3\"\nbucket = \"b\"\naccess_key_id = \"a\"",
                "config key `recorder.storage.secret_access_key`: required when",
            ),
            (
                "type = \"s3\"\nbucket = \"b\"\naccess_key_secret = \"a\"",
                "config key `recorder.storage.access_key_secret`: only used with type = \"oss\"",
            ),
            (
                "type = \"oss\"\nbucket = \"b\"\nendpoint = \"http://h\"\nsecret_access_key = \"s\"",
                "config key `recorder.storage.secret_access_key`: only used with type = \"s3\"",
            ),
            (
                "type = \"s3\"\nbucket = \"b\"\nendpoint = \"127.0.0.1:9000\"",
                "config key `recorder.storage.endpoint`: `127.0.0.1:9000` is not an http(s) URL",
            ),
            (
                "type = \"s3\"\nbucket = \"b\"\ndisable_config_load = true",
                "config key `recorder.storage.region`: required when `disable_config_load = true`",
            ),
            (
                "type = \"s3\"\nbucket = \"b\"\nsession_token = \"t\"",
                "config key `recorder.storage.session_token`: needs",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).validate("recorder.storage").err().unwrap_or_default();
            assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn unknown_type_is_a_parse_error() {
        let e = toml::from_str::<StorageConfig>("type = \"gcs\"").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("gcs") && e.contains("fs") && e.contains("s3"), "{e}");
    }
}
