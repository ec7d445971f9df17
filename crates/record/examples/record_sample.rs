//! Writes a sample recording made from ffmpeg test sources, for manual checks
//! (dash.js, players): `cargo run -p wishcast-record --example record_sample -- OUT_DIR [h264|vp8|vp9|h265|av1] [SECONDS]`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, SystemTime};

use wishcast_record::{Codec, Output};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out_dir = std::path::PathBuf::from(args.get(1).expect("usage: record_sample OUT_DIR [codec] [seconds]"));
    let codec = match args.get(2).map(String::as_str).unwrap_or("h264") {
        "vp8" => Codec::Vp8,
        "vp9" => Codec::Vp9,
        "h265" => Codec::H265,
        "av1" => Codec::Av1,
        _ => Codec::H264,
    };
    let secs: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(12);
    std::fs::create_dir_all(&out_dir).unwrap();
    let work = common::tmpdir("sample");
    let v = common::video(&work, codec, secs, 30);
    let a = common::opus(&work, secs);
    let start = SystemTime::now() - Duration::from_secs(secs as u64);
    let mut rec = wishcast_record::Recorder::new("sample", "s1", Default::default(), start, None);
    let mut outs = common::feed(&mut rec, Some(&v), Some(&a), start, 40);
    rec.finish(SystemTime::now(), &mut outs);
    common::write_outputs(&out_dir, &outs);
    for o in &outs {
        if let Output::SessionStarted { mpd_path, .. } = o {
            println!("{}", out_dir.join(mpd_path).display());
        }
    }
    let _ = std::fs::remove_dir_all(&work);
}
