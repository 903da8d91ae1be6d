//! `opsync`: the native host. See `opsync --help`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "opsync",
    version,
    about = "Keeps WHMCS domain records and Openprovider domains in step",
    long_about = "Keeps WHMCS domain records and Openprovider domains in step.\n\n\
        Openprovider leads status, expiry date and due date; WHMCS leads auto-renew and \
        ID protection (WHOIS privacy). Every decision is made by one pure engine; this \
        program only reads, calls the engine, and applies what it answers."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the decision engine on one request (engine contract v1).
    ///
    /// Reads a request from FILE (or standard input when FILE is absent or "-") and
    /// prints the response on standard output. The request holds the policy, the WHMCS
    /// rows (`whmcs[]`: id, domain, status, expirydate, nextduedate, nextinvoicedate,
    /// donotrenew, idprotection) and the Openprovider domains as the API returns them
    /// (`openprovider.domains[]`, with `complete` true for a full listing). The response
    /// holds one result per WHMCS row: the WHMCS changes, the Openprovider changes and
    /// notices, each change as {from, to}, plus a summary.
    ///
    /// An invalid request prints one line on standard error naming the JSON path of the
    /// problem (e.g. `whmcs[3].id: expected an integer`), nothing on standard output,
    /// and exits with status 1. When no answer could be had at all (the file cannot be
    /// read, the engine ran out of fuel or memory), the one line says so and the exit
    /// status is 3.
    Decide {
        /// The request file; standard input when absent or "-".
        file: Option<PathBuf>,
        /// Which build of the engine answers (both give the same bytes).
        #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
        engine: EngineKind,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineKind {
    /// The embedded engine.wasm, run by wasmtime (compiled once, then cached on disk).
    Wasm,
    /// The engine compiled into this program.
    Native,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Decide { file, engine } => decide(file, engine),
    }
}

fn decide(file: Option<PathBuf>, engine: EngineKind) -> ExitCode {
    let request = match read_input(file.as_ref()) {
        Ok(bytes) => bytes,
        Err(message) => return fail(&message, EXIT_NO_ANSWER),
    };
    let engine = match engine {
        EngineKind::Wasm => opsync::EngineChoice::Wasm,
        EngineKind::Native => opsync::EngineChoice::Native,
    };
    let answer = opsync::decide(&request, engine);
    match answer {
        Ok(mut response) => {
            response.push(b'\n');
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&response).and_then(|()| out.flush()) {
                return fail(&format!("cannot write the response: {e}"), EXIT_NO_ANSWER);
            }
            ExitCode::SUCCESS
        }
        Err(opsync::CallError::Invalid(line)) => fail(&line, EXIT_INVALID),
        Err(other) => fail(&other.to_string(), EXIT_NO_ANSWER),
    }
}

fn read_input(file: Option<&PathBuf>) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    match file {
        Some(path) if path.as_os_str() != "-" => {
            bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
        }
    }
    Ok(bytes)
}

/// `opsync decide`: the request is invalid.
const EXIT_INVALID: u8 = 1;
/// No answer could be had (2 is the usage error of the command line itself).
const EXIT_NO_ANSWER: u8 = 3;

/// One line on standard error, and the exit status.
fn fail(message: &str, status: u8) -> ExitCode {
    let line = message.replace(['\n', '\r'], " ");
    eprintln!("opsync: {line}");
    ExitCode::from(status)
}
