//! `wishcast export`: one UTC day of a stream's recording as a single progressive MP4,
//! read from the storage named by `[recorder.storage]` of a manager or node config —
//! the same file `GET /api/record/export/{stream}/{YYYY}/{MM}/{DD}` streams.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wishcast_storage::{ObjectPath, StorageConfig, Store};

#[derive(Args)]
pub struct ExportArgs {
    /// Config file with a `[recorder.storage]` section (manager.toml or node.toml);
    /// without it, the default `./storage` folder.
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// Stream id.
    stream: String,
    /// UTC day, `YYYY-MM-DD` or `YYYY/MM/DD`.
    day: String,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Keep only segments overlapping [from, to] (Unix milliseconds).
    #[arg(long)]
    from: Option<u64>,
    #[arg(long)]
    to: Option<u64>,
}

fn storage_config(path: Option<&PathBuf>) -> Result<StorageConfig, String> {
    let Some(p) = path else { return Ok(StorageConfig::default()) };
    let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    let v: toml::Value = toml::from_str(&text).map_err(|e| format!("{}: invalid TOML: {e}", p.display()))?;
    match v.get("recorder").and_then(|r| r.get("storage")) {
        None => Ok(StorageConfig::default()),
        Some(s) => s.clone().try_into().map_err(|e| format!("{}: config key `recorder.storage`: {e}", p.display())),
    }
}

pub fn main(a: ExportArgs) -> ExitCode {
    match run(a) {
        Ok(n) => {
            eprintln!("wishcast export: wrote {n} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wishcast export: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: ExportArgs) -> Result<u64, String> {
    let parts: Vec<&str> = a.day.split(['-', '/']).collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(format!("day `{}` must look like 2025-07-24", a.day));
    };
    let (y, m, d) = wishcast_api::record::parse_day(y, m, d)?;
    let cfg = storage_config(a.config.as_ref())?;
    cfg.validate("recorder.storage")?;
    let store = Store::new(&cfg).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let dir = wishcast_api::record::day_dir(&a.stream, y, m, d);
    let read = |rel: &str| -> std::io::Result<Vec<u8>> {
        let p = ObjectPath::parse(&format!("{dir}/{rel}")).map_err(|e| std::io::Error::other(e.to_string()))?;
        match rt.block_on(store.read_all(&p)) {
            Ok(Some(b)) => Ok(b),
            Ok(None) => Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("{} is missing", p.as_str()))),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    };
    let manifest =
        read("manifest.mpd").map_err(|e| format!("no recording of `{}` on {y:04}-{m:02}-{d:02}: {e}", a.stream))?;
    let manifest = String::from_utf8_lossy(&manifest).into_owned();
    let mut out: Box<dyn Write> = if a.output == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(std::io::BufWriter::new(std::fs::File::create(&a.output).map_err(|e| format!("{}: {e}", a.output))?))
    };
    let n = wishcast_record::export::export_to_writer(&manifest, a.from, a.to, read, &mut out)
        .map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    Ok(n)
}
