//! Stand-alone runner until `wishcast bench` is wired:
//! `cargo run --release -p wishcast-bench --example bench -- --whip URL -n 50`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "bench", about = "WHIP/WHEP load generator (wishcast bench)")]
struct Cli {
    #[command(flatten)]
    args: wishcast_bench::BenchArgs,
}

fn main() -> std::process::ExitCode {
    wishcast_bench::main(Cli::parse().args)
}
