//! `op-sandbox --seed FILE --port N`: serves the Openprovider sandbox for the demo and the
//! benchmarks until interrupted. Faults and counters: `POST /__sandbox/faults`,
//! `GET /__sandbox/counters`.

use std::path::PathBuf;

use clap::Parser;
use opsync_testkit::sandbox::{Faults, Sandbox, Seed};

#[derive(Parser)]
#[command(
    name = "op-sandbox",
    about = "An Openprovider API sandbox on 127.0.0.1"
)]
struct Args {
    /// JSON file: {"username"?, "password"?, "domains": [domain objects]}.
    #[arg(long)]
    seed: PathBuf,
    /// Port on 127.0.0.1 (0: any free port; the address is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Every Nth request fails with a bare 502 (20: 5% of calls fail transiently).
    #[arg(long)]
    fail_every: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let text =
        std::fs::read_to_string(&args.seed).map_err(|e| format!("{}: {e}", args.seed.display()))?;
    let seed: Seed =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", args.seed.display()))?;
    let count = seed.domains.len();
    let sandbox = Sandbox::start(seed, args.port)
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    sandbox.set_faults(Faults {
        latency_ms: args.latency_ms,
        fail_every: args.fail_every,
        ..Faults::default()
    });
    println!("op-sandbox: {} domains at {}", count, sandbox.base_url());
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}
