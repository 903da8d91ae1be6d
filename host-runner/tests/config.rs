//! opsync.toml, the environment and the command line, in that order of strength.

use std::collections::HashMap;

use opsync::config::{resolve, ConfigError, FileConfig, Overrides};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |key: &str| map.get(key).cloned()
}

const BASE: &str = r#"
[whmcs]
database_url = "mysql://whmcs:file-secret@db.example.net/whmcs"
[openprovider]
username = "reseller"
password = "file-password"
[sync]
batch_size = 200
[policy]
due_date_offset_days = 10
due_date_max_shift_days = "none"
"#;

#[test]
fn the_example_file_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../opsync.example.toml"
    ))
    .unwrap();
    let file = FileConfig::parse(&text).unwrap();
    assert_eq!(
        file.openprovider.username.as_deref(),
        Some("your-reseller-login")
    );
    let config = resolve(
        file,
        &env(&[
            ("OPSYNC_OP_PASSWORD", "p"),
            ("OPSYNC_DATABASE_URL", "sqlite://x.db"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(config.policy()).unwrap()["protected_statuses"],
        serde_json::json!(["Fraud", "Cancelled"])
    );
}

#[test]
fn the_environment_overrides_the_file_and_the_command_line_overrides_both() {
    let file = FileConfig::parse(BASE).unwrap();
    let config = resolve(file.clone(), &env(&[]), &Overrides::default()).unwrap();
    assert_eq!(config.password.expose(), "file-password");
    assert_eq!(config.engine.batch, Some(200));
    assert_eq!(config.policy().due_date_max_shift_days, None);
    assert_eq!(config.policy().due_date_offset_days, 10);

    let env = env(&[
        ("OPSYNC_OP_PASSWORD", "env-password"),
        ("OPSYNC_DATABASE_URL", "sqlite://env.db"),
    ]);
    let config = resolve(file.clone(), &env, &Overrides::default()).unwrap();
    assert_eq!(config.password.expose(), "env-password");
    assert_eq!(config.database_url.expose(), "sqlite://env.db");

    let cli = Overrides {
        database_url: Some("sqlite://cli.db".into()),
        batch_size: Some(50),
        ..Overrides::default()
    };
    let config = resolve(file, &env, &cli).unwrap();
    assert_eq!(config.database_url.expose(), "sqlite://cli.db");
    assert_eq!(config.engine.batch, Some(50));
}

#[test]
fn an_unknown_key_is_an_error_that_names_it() {
    let err = FileConfig::parse("[openprovider]\nusername = \"x\"\npasword = \"y\"\n").unwrap_err();
    assert!(err.contains("unknown field `pasword`"), "{err}");
    let err = FileConfig::parse("[sync]\nbatch = 5\n").unwrap_err();
    assert!(err.contains("unknown field `batch`"), "{err}");
}

#[test]
fn a_misspelt_policy_field_is_caught_by_the_engines_own_rules() {
    let file =
        FileConfig::parse(&BASE.replace("due_date_offset_days", "due_date_offset_day")).unwrap();
    let err = resolve(file, &env(&[]), &Overrides::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "opsync.toml: policy.due_date_offset_day: unknown policy field"
    );
}

#[test]
fn missing_settings_say_where_to_set_them_and_secrets_stay_hidden() {
    let file = FileConfig::parse("[openprovider]\nusername = \"x\"\n").unwrap();
    let err = resolve(file, &env(&[]), &Overrides::default()).unwrap_err();
    assert!(matches!(err, ConfigError::Missing { .. }));
    assert_eq!(
        err.to_string(),
        "the Openprovider password is not set: set openprovider.password in opsync.toml or OPSYNC_OP_PASSWORD"
    );
    let config = resolve(
        FileConfig::parse(BASE).unwrap(),
        &env(&[]),
        &Overrides::default(),
    )
    .unwrap();
    let shown = format!("{config:?} {:?}", FileConfig::parse(BASE).unwrap());
    assert!(
        !shown.contains("file-password") && !shown.contains("file-secret"),
        "{shown}"
    );
}

#[test]
fn plain_http_is_refused_except_for_a_local_sandbox() {
    let file = FileConfig::parse(&format!("{BASE}\n")).unwrap();
    let cli = Overrides {
        base_url: Some("http://api.example.net/v1beta".into()),
        ..Overrides::default()
    };
    let err = resolve(file.clone(), &env(&[]), &cli).unwrap_err();
    assert!(err.to_string().contains("must use https"), "{err}");
    let cli = Overrides {
        base_url: Some("http://127.0.0.1:4000/v1beta".into()),
        ..Overrides::default()
    };
    assert!(resolve(file, &env(&[]), &cli).is_ok());
}

#[test]
fn whmcs_configuration_php_gives_the_database() {
    let dir = std::env::temp_dir().join(format!("opsync-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let php = dir.join("configuration.php");
    std::fs::write(
        &php,
        "<?php\n$license = 'x';\n$db_host = 'db.internal';\n$db_port = '3307';\n$db_username = 'whmcs';\n\
         $db_password = 'p@ss:w/rd';\n$db_name = 'whmcs_live';\n$cc_encryption_hash = 'abc';\n",
    )
    .unwrap();
    let url = opsync::config::database_url_from_configuration_php(&php).unwrap();
    assert_eq!(
        url,
        "mysql://whmcs:p%40ss%3Aw%2Frd@db.internal:3307/whmcs_live"
    );
    let file = FileConfig::parse(&format!(
        "[whmcs]\nconfiguration_php = {:?}\n[openprovider]\nusername = \"r\"\npassword = \"p\"\n",
        php.display().to_string()
    ))
    .unwrap();
    let config = resolve(file, &env(&[]), &Overrides::default()).unwrap();
    assert_eq!(config.database_url.expose(), url);
    let missing =
        opsync::config::database_url_from_configuration_php(&dir.join("nope.php")).unwrap_err();
    assert!(
        missing.to_string().ends_with("nope.php: no such file"),
        "{missing}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_setting_says_where_it_came_from_with_secrets_masked() {
    let file = FileConfig::parse(BASE).unwrap();
    let env = env(&[
        ("OPSYNC_OP_PASSWORD", "env-password"),
        ("OPSYNC_OP_BASE_URL", "https://api.openprovider.eu/"),
    ]);
    let cli = Overrides {
        batch_size: Some(50),
        ..Overrides::default()
    };
    let config = resolve(file, &env, &cli).unwrap();
    let shown = |key: &str| {
        let s = config
            .settings
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("no setting {key}"));
        format!("{} ({})", s.value, s.source)
    };
    assert_eq!(shown("openprovider.username"), "reseller (file)");
    assert_eq!(
        shown("openprovider.password"),
        "*** (environment OPSYNC_OP_PASSWORD)"
    );
    // Given without the API version, used with it.
    assert_eq!(
        shown("openprovider.base_url"),
        "https://api.openprovider.eu/v1beta (environment OPSYNC_OP_BASE_URL)"
    );
    assert_eq!(
        shown("whmcs.database_url"),
        "mysql://whmcs:***@db.example.net/whmcs (file)"
    );
    assert_eq!(shown("sync.batch_size"), "50 (command line --batch)");
    assert_eq!(shown("policy.due_date_offset_days"), "10 (file)");
    assert_eq!(shown("policy.due_date_max_shift_days"), "none (file)");
    assert_eq!(shown("policy.expiry_source"), "renewal_date (default)");
    let all = format!("{:?}", config.settings);
    assert!(
        !all.contains("secret") && !all.contains("env-password"),
        "{all}"
    );
}
