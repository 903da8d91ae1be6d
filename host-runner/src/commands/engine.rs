//! `opsync decide`, `opsync render-report`, `opsync lookup-names`, `opsync settings`,
//! `opsync version`: the engine's verbs, exactly as every other face answers them; and
//! `opsync engine-run`, the run protocol over standard input and output.

use std::io::{Read, Write};
use std::path::PathBuf;

use opsync::{CallError, EngineChoice, Verb};

use crate::{fail, ExitStatus};

/// `decide`, `render-report`, `lookup-names`: the input from FILE or standard input.
pub(crate) fn verb(verb: Verb, file: Option<PathBuf>, engine: EngineChoice) -> ExitStatus {
    answer(file, |input| opsync::answer(verb, input, engine))
}

/// `engine-run`: one run, its inputs from standard input, its outputs to standard output.
pub(crate) fn engine_run(engine: EngineChoice) -> ExitStatus {
    use std::io::BufRead;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    if input.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
        return fail(
            "engine-run: no start on standard input",
            ExitStatus::NoAnswer,
        );
    }
    let mut run = match opsync::run::Core::start(engine, trim(&line)) {
        Ok((run, first)) => {
            if write_line(&mut out, &first).is_err() {
                return ExitStatus::NoAnswer;
            }
            run
        }
        Err(CallError::Invalid(message)) => return fail(&message, ExitStatus::Invalid),
        Err(e) => return fail(&e.to_string(), ExitStatus::NoAnswer),
    };
    loop {
        let mut header = Vec::new();
        let mut length = Vec::new();
        if input.read_until(b'\n', &mut header).unwrap_or(0) == 0
            || input.read_until(b'\n', &mut length).unwrap_or(0) == 0
        {
            // The host went away: the run goes with it.
            return ExitStatus::Success;
        }
        let Some(n) = std::str::from_utf8(trim(&length))
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return fail(
                "engine-run: a body's length is no number",
                ExitStatus::Invalid,
            );
        };
        let mut body = vec![0; n];
        if std::io::Read::read_exact(&mut input, &mut body).is_err() {
            return fail("engine-run: the body ended early", ExitStatus::Invalid);
        }
        let answer = match run.feed(trim(&header), &body) {
            Ok(outputs) => outputs,
            Err(CallError::Invalid(message)) => {
                format!("ERROR {}", message.replace('\n', " ")).into_bytes()
            }
            Err(e) => return fail(&e.to_string(), ExitStatus::NoAnswer),
        };
        if write_line(&mut out, &answer).is_err() {
            return ExitStatus::NoAnswer;
        }
        let over = serde_json::from_slice::<opsync_engine::run::Outputs>(&answer)
            .is_ok_and(|o| o.outcome.is_some());
        if over {
            return ExitStatus::Success;
        }
    }
}

fn trim(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

fn write_line(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(bytes)?;
    out.write_all(b"\n")?;
    out.flush()
}

pub(crate) fn version(engine: EngineChoice) -> ExitStatus {
    match opsync::version(engine) {
        Ok(name) => print(format!("{name}\n").as_bytes()),
        Err(e) => fail(&e.to_string(), ExitStatus::NoAnswer),
    }
}

/// Reads the input, asks the engine, prints its answer and a newline.
fn answer(
    file: Option<PathBuf>,
    verb: impl FnOnce(&[u8]) -> Result<Vec<u8>, CallError>,
) -> ExitStatus {
    let input = match read_input(file.as_ref()) {
        Ok(bytes) => bytes,
        Err(message) => return fail(&message, ExitStatus::NoAnswer),
    };
    match verb(&input) {
        Ok(mut answer) => {
            answer.push(b'\n');
            print(&answer)
        }
        Err(CallError::Invalid(line)) => fail(&line, ExitStatus::Invalid),
        Err(other) => fail(&other.to_string(), ExitStatus::NoAnswer),
    }
}

fn print(bytes: &[u8]) -> ExitStatus {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitStatus::Success,
        Err(e) => fail(
            &format!("cannot write the answer: {e}"),
            ExitStatus::NoAnswer,
        ),
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
