//! `opsync decide`, `opsync render-report`, `opsync lookup-names`, `opsync version`: the
//! engine's verbs, exactly as every other face answers them.

use std::io::{Read, Write};
use std::path::PathBuf;

use opsync::{CallError, EngineChoice, Verb};

use crate::{fail, ExitStatus};

/// `decide`, `render-report`, `lookup-names`: the input from FILE or standard input.
pub(crate) fn verb(verb: Verb, file: Option<PathBuf>, engine: EngineChoice) -> ExitStatus {
    answer(file, |input| opsync::answer(verb, input, engine))
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
