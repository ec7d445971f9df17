//! Content type of a stored recording object, chosen from its file name. Live777 sends
//! `video/mp4` for audio segments too; here a segment is `audio/mp4` when the caller
//! knows the recording is audio-only or when its file name starts with `a_` (the
//! recorder's audio init/segment prefix).

/// `.mpd` → `application/dash+xml`; `.m4s`/`.mp4` → `video/mp4` (`audio/mp4` when
/// `audio_only` or the file name starts with `a_`); anything else →
/// `application/octet-stream`.
pub fn content_type(path: &str, audio_only: bool) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "mpd" => "application/dash+xml",
        "m4s" | "mp4" if audio_only || name.starts_with("a_") => "audio/mp4",
        "m4s" | "mp4" => "video/mp4",
        "webm" if audio_only || name.starts_with("a_") => "audio/webm",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn by_extension_and_prefix() {
        let cases = [
            ("cam1/2026/11/21/manifest.mpd", false, "application/dash+xml"),
            ("cam1/2026/11/21/MANIFEST.MPD", false, "application/dash+xml"),
            ("cam1/s/v_0001.m4s", false, "video/mp4"),
            ("cam1/s/v_init.mp4", false, "video/mp4"),
            ("cam1/s/a_0001.m4s", false, "audio/mp4"),
            ("cam1/s/a_init.mp4", false, "audio/mp4"),
            ("cam1/s/v_0001.m4s", true, "audio/mp4"),
            ("a_dir/v_0001.m4s", false, "video/mp4"),
            ("cam1/s/v_0001.webm", false, "video/webm"),
            ("cam1/s/a_0001.webm", false, "audio/webm"),
            ("cam1/s/notes.txt", false, "application/octet-stream"),
            ("cam1/s/noext", false, "application/octet-stream"),
            ("cam1/s/noext", true, "application/octet-stream"),
            ("", false, "application/octet-stream"),
        ];
        for (path, audio, want) in cases {
            assert_eq!(content_type(path, audio), want, "{path} audio_only={audio}");
        }
    }
}
