//! The table of embedded files: path under `assets/`, content type and bytes.
//! A unit test checks that every file in `assets/` is listed here, so a new file
//! cannot be forgotten (and a listed file that is missing fails to compile).

/// One embedded file.
pub struct Asset {
    /// Path below `assets/` (and below `/dashboard/` in URLs).
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// The app shell served at `/` and `/dashboard/`.
pub const INDEX: &str = "index.html";

macro_rules! asset {
    ($path:literal) => {
        Asset {
            path: $path,
            content_type: content_type($path),
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $path)),
        }
    };
}

/// Every embedded file.
pub static ASSETS: &[Asset] = &[
    asset!("index.html"),
    asset!("css/app.css"),
    asset!("js/app.js"),
    asset!("js/api.js"),
    asset!("js/ui.js"),
    asset!("js/webrtc.js"),
    asset!("js/pages/login.js"),
    asset!("js/pages/cluster.js"),
    asset!("js/pages/streams.js"),
    asset!("js/pages/preview.js"),
    asset!("js/pages/publish.js"),
    asset!("js/pages/recordings.js"),
    asset!("vendor/dash.all.min.js"),
    asset!("vendor/dash.all.min.js.LICENSE.txt"),
    asset!("vendor/dashjs-LICENSE.md"),
];

/// Content type by extension (`application/octet-stream` when unknown).
pub const fn content_type(path: &str) -> &'static str {
    let b = path.as_bytes();
    if ends_with(b, b".html") {
        "text/html; charset=utf-8"
    } else if ends_with(b, b".js") || ends_with(b, b".mjs") {
        "text/javascript; charset=utf-8"
    } else if ends_with(b, b".css") {
        "text/css; charset=utf-8"
    } else if ends_with(b, b".svg") {
        "image/svg+xml"
    } else if ends_with(b, b".json") {
        "application/json"
    } else if ends_with(b, b".md") {
        "text/markdown; charset=utf-8"
    } else if ends_with(b, b".txt") {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

const fn ends_with(s: &[u8], suffix: &[u8]) -> bool {
    if s.len() < suffix.len() {
        return false;
    }
    let off = s.len() - suffix.len();
    let mut i = 0;
    while i < suffix.len() {
        if s[off + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The asset at `path` (exact match; no normalisation, so `..` never matches).
pub fn find(path: &str) -> Option<(usize, &'static Asset)> {
    ASSETS.iter().enumerate().find(|(_, a)| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read assets dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).expect("prefix").to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_under_assets_is_embedded_exactly_once() {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut on_disk = Vec::new();
        walk(&base, &base, &mut on_disk);
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "assets/ and ASSETS differ: add the file to ASSETS in src/assets.rs");
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("a/b.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("x.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("LICENSE.txt"), "text/plain; charset=utf-8");
        assert_eq!(content_type("js"), "application/octet-stream");
        assert_eq!(content_type(""), "application/octet-stream");
    }

    #[test]
    fn find_is_exact() {
        assert!(find("js/app.js").is_some());
        assert!(find("/js/app.js").is_none());
        assert!(find("js/../js/app.js").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn every_module_import_points_at_an_embedded_file() {
        // `import ... from '/dashboard/js/x.js'` and `import('/dashboard/...')` in the
        // JS, `href`/`src` in the HTML: every target must be in the table.
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".js") || a.path.ends_with(".html")) {
            if a.path.starts_with("vendor/") {
                continue;
            }
            let text = std::str::from_utf8(a.body).expect("utf-8 source");
            for (i, _) in text.match_indices("/dashboard/") {
                let rest = &text[i + "/dashboard/".len()..];
                let end = rest.find(['\'', '"', '`', ')', ' ']).unwrap_or(rest.len());
                let target = &rest[..end];
                if target.is_empty() || target.contains('$') {
                    continue;
                }
                assert!(find(target).is_some(), "{} refers to /dashboard/{target}, which is not embedded", a.path);
            }
        }
    }
}
