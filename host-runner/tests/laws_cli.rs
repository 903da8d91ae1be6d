//! `opsync laws`: the engine's laws checked with an operator's policy.

use std::process::{Command, Output};

fn opsync(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsync"))
        .args(args)
        .env_remove("OPSYNC_CONFIG")
        .output()
        .unwrap()
}

fn config(name: &str, policy: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("opsync-laws-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, format!("[policy]\n{policy}")).unwrap();
    path
}

#[test]
fn every_law_holds_with_the_default_policy_and_each_is_named() {
    let out = opsync(&["laws", "--cases", "24"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with(
        "Checking the engine's laws with the contract's default policy, 24 generated cases each:"
    ));
    for law in opsync_engine::laws::LAWS {
        assert!(
            stdout.contains(&format!("  holds   {}: {}", law.name, law.statement)),
            "{} missing:\n{stdout}",
            law.name
        );
    }
    assert!(stdout.ends_with("Every law holds.\n"));
}

#[test]
fn the_laws_run_with_the_policy_of_the_configuration() {
    let path = config(
        "ok",
        "due_date_offset_days = 14\nsync_whois_privacy = false\nprotected_statuses = [\"Fraud\"]\n",
    );
    let out = opsync(&["laws", "--cases", "16", "--config", path.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("with the policy of {}", path.display())),
        "{stdout}"
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_policy_the_engine_refuses_is_one_line_and_status_five() {
    let path = config("bad", "due_date_ofset_days = 14\n");
    let out = opsync(&["laws", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "opsync: opsync.toml: policy.due_date_ofset_days: unknown policy field\n"
    );
    let _ = std::fs::remove_file(path);
}
