//! `opsync check`: every check on one line, the settings and where each came from.

use std::path::Path;

use opsync::check::{Check, CheckOptions};
use opsync::config::{FileConfig, Overrides, Setting};
use serde::Serialize;

use crate::{fail, ExitStatus};

#[derive(Serialize)]
struct Outcome<'a> {
    config: &'a Path,
    passed: bool,
    settings: &'a [Setting],
    checks: &'a [Check],
}

pub(crate) fn check(
    config_path: &Path,
    overrides: Overrides,
    options: CheckOptions,
    json: bool,
) -> ExitStatus {
    let resolved = FileConfig::read(config_path)
        .and_then(|file| opsync::config::resolve(file, &|k| std::env::var(k).ok(), &overrides));
    let (settings, checks) = match resolved {
        Err(e) => (
            Vec::new(),
            vec![Check::fail(
                "configuration",
                e.to_string(),
                "fix the setting named (opsync.example.toml documents each one); nothing else \
                 was checked",
            )],
        ),
        Ok(config) => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("cannot start: {e}"), ExitStatus::NotCompleted),
            };
            let mut checks = vec![Check::pass(
                "configuration",
                format!("read {}", config_path.display()),
            )];
            checks.extend(runtime.block_on(opsync::check::run(&config, options)));
            (config.settings, checks)
        }
    };
    let passed = checks.iter().all(|c| c.ok);
    if json {
        let outcome = Outcome {
            config: config_path,
            passed,
            settings: &settings,
            checks: &checks,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome).unwrap_or_default()
        );
    } else {
        print!("{}", text(config_path, &settings, &checks));
    }
    if passed {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    }
}

fn text(config_path: &Path, settings: &[Setting], checks: &[Check]) -> String {
    let mut out = format!("opsync check: {}\n\n", config_path.display());
    if !settings.is_empty() {
        let width = settings.iter().map(|s| s.key.len()).max().unwrap_or(0);
        out.push_str("Settings (value, and where it came from):\n");
        for s in settings {
            out.push_str(&format!(
                "  {:width$}  {}  ({})\n",
                s.key, s.value, s.source
            ));
        }
        out.push('\n');
    }
    for c in checks {
        let mark = if c.ok { '✓' } else { '✗' };
        out.push_str(&format!("{mark} {}: {}\n", c.name, one_line(&c.detail)));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("    what to do: {}\n", one_line(fix)));
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    out.push_str(&if failed == 0 {
        format!("\nAll {} checks passed.\n", checks.len())
    } else {
        format!("\n{failed} of {} checks failed.\n", checks.len())
    });
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
