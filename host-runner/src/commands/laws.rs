//! `opsync laws`: the engine's laws, checked with the operator's policy.

use std::io::Write;
use std::path::PathBuf;

use opsync::config::FileConfig;
use opsync_engine::laws::{check, LAWS};
use opsync_engine::Policy;

use crate::{fail, ExitStatus};

pub(crate) fn laws(config: Option<PathBuf>, cases: u32) -> ExitStatus {
    let (policy, whose) = match &config {
        None => (
            Policy::default(),
            "the contract's default policy".to_string(),
        ),
        Some(path) => match FileConfig::read(path).and_then(|file| file.policy()) {
            Ok(policy) => (policy, format!("the policy of {}", path.display())),
            Err(e) => return fail(&e.to_string(), ExitStatus::NotCompleted),
        },
    };
    let policy = serde_json::to_value(&policy).unwrap_or_default();
    // Written as it goes, and a closed pipe (`| head`) is no reason to stop checking.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Checking the engine's laws with {whose}, {cases} generated cases each:"
    );
    let mut broken = 0;
    for law in LAWS {
        match check(law, Some(&policy), cases) {
            Ok(()) => {
                let _ = writeln!(out, "  holds   {}: {}", law.name, law.statement);
            }
            Err(c) => {
                broken += 1;
                let _ = writeln!(out, "  BROKEN  {}: {}", law.name, law.statement);
                let _ = writeln!(out, "          {}", c.message);
                let _ = writeln!(out, "          the smallest input that shows it:");
                for line in c.input.lines() {
                    let _ = writeln!(out, "          {line}");
                }
            }
        }
    }
    if broken == 0 {
        let _ = writeln!(out, "Every law holds.");
        ExitStatus::Success
    } else {
        fail(
            &format!("{broken} of {} laws are broken with {whose}", LAWS.len()),
            ExitStatus::LawBroken,
        )
    }
}
