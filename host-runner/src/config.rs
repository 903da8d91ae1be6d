//! Configuration: `opsync.toml`, then the environment, then the command line, each
//! overriding the one before. An unknown key is an error that names it; a missing
//! setting is an error that says where to set it. See `opsync.example.toml`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use opsync_engine::Policy;
use serde::Deserialize;
use serde_json::Value;

use crate::openprovider::{ClientConfig, Credentials, Secret, DEFAULT_BASE_URL};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{what} is not set: {hint}")]
    Missing {
        what: &'static str,
        hint: &'static str,
    },
}

/// `opsync.toml` as written; every section and key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub whmcs: WhmcsSection,
    #[serde(default)]
    pub openprovider: OpenproviderSection,
    #[serde(default)]
    pub mail: MailSection,
    #[serde(default)]
    pub sync: SyncSection,
    #[serde(default)]
    pub safety: SafetySection,
    #[serde(default)]
    pub report: ReportSection,
    /// The engine's policy, checked by the engine's own rules.
    pub policy: Option<toml::Table>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhmcsSection {
    /// `mysql://user:password@host:3306/whmcs` or `sqlite://path`.
    pub database_url: Option<Secret>,
    /// WHMCS's `configuration.php`, whose `$db_*` settings give the database.
    pub configuration_php: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenproviderSection {
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub base_url: Option<String>,
    pub token_cache: Option<PathBuf>,
    pub concurrency: Option<usize>,
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSection {
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    /// `starttls` (default), `tls`, or `none` (only for a relay on this machine).
    pub smtp_security: Option<String>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<Secret>,
    pub from: Option<String>,
    /// Extra recipients besides the admins with System emails.
    #[serde(default)]
    pub to: Vec<String>,
    pub send_empty_reports: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSection {
    /// Rows per run; 0 or absent: all.
    pub batch_size: Option<usize>,
}

/// The mass-change brake (the engine's `mass_change_limit`): a run in which more rows
/// would change than both limits is held whole, and nothing is written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetySection {
    /// Default 10; 100 switches the brake off.
    pub mass_change_percent: Option<u32>,
    /// Default 25.
    pub mass_change_min_rows: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSection {
    /// Prometheus metrics after each sync (node_exporter's textfile collector).
    pub metrics_file: Option<PathBuf>,
    /// The WHMCS admin area, for a link to each domain in the report; default: WHMCS's
    /// System URL followed by `admin/`.
    pub whmcs_admin_url: Option<String>,
    /// How often problems already reported are listed in full again (hours, default 24;
    /// 0: in every report).
    pub repeat_still_open_hours: Option<u32>,
}

/// Still-open problems are listed in full once a day by default.
pub const REPEAT_STILL_OPEN_HOURS: u32 = 24;

/// The brake's defaults: more than 10% of the rows and more than 25 rows.
pub const MASS_CHANGE_PERCENT: u32 = 10;
pub const MASS_CHANGE_MIN_ROWS: u64 = 25;

/// What the command line says; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub base_url: Option<String>,
    pub batch_size: Option<usize>,
    pub send_empty_reports: Option<bool>,
    /// `--allow-mass-change`: this run only, no brake.
    pub allow_mass_change: bool,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Source {
    /// `opsync.toml`.
    File,
    /// An environment variable, named.
    Environment(&'static str),
    /// A command-line option, named.
    CommandLine(&'static str),
    /// WHMCS's `configuration.php`.
    ConfigurationPhp,
    /// Not set anywhere: opsync's default.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File => f.write_str("file"),
            Source::Environment(name) => write!(f, "environment {name}"),
            Source::CommandLine(name) => write!(f, "command line {name}"),
            Source::ConfigurationPhp => f.write_str("WHMCS configuration.php"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// One resolved setting as `opsync check` shows it: secrets as `***`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub source: Source,
}

/// Everything a run needs, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    pub openprovider: ClientConfig,
    pub mail: MailSection,
    pub batch_size: Option<usize>,
    pub send_empty_reports: bool,
    /// The engine's policy, checked by the engine's own rules.
    pub policy: Policy,
    /// Every setting, where it came from, secrets masked.
    pub settings: Vec<Setting>,
    pub metrics_file: Option<PathBuf>,
    /// `[report] whmcs_admin_url`; `None`: from WHMCS's System URL.
    pub whmcs_admin_url: Option<String>,
    pub repeat_still_open_hours: u32,
}

/// The first of the layers that holds a value, and which one it was.
fn layered<T>(
    command_line: (Option<T>, &'static str),
    environment: (Option<T>, &'static str),
    file: Option<T>,
) -> Option<(T, Source)> {
    command_line
        .0
        .map(|v| (v, Source::CommandLine(command_line.1)))
        .or_else(|| {
            environment
                .0
                .map(|v| (v, Source::Environment(environment.1)))
        })
        .or_else(|| file.map(|v| (v, Source::File)))
}

/// A database URL with its password as `***`.
pub fn masked_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "(not a URL)".to_string(),
    }
}

impl FileConfig {
    pub fn read(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        FileConfig::parse(&text).map_err(|message| ConfigError::File {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " ").replace("  ", " "))
    }

    /// The `[policy]` section, checked by the engine's own rules; the contract's
    /// defaults where it says nothing.
    pub fn policy(&self) -> Result<Policy, ConfigError> {
        let mut policy = match &self.policy {
            Some(table) => {
                serde_json::to_value(table).map_err(|e| ConfigError::Invalid(e.to_string()))?
            }
            None => Value::Object(Default::default()),
        };
        // TOML has no null: "none" switches the due-date guard off.
        if policy["due_date_max_shift_days"] == "none" {
            policy["due_date_max_shift_days"] = Value::Null;
        }
        Policy::from_value(&policy, "policy")
            .map_err(|e| ConfigError::Invalid(format!("opsync.toml: {e}")))
    }
}

/// Resolves the layers: the file, then `env` (a lookup, so tests need not touch the
/// process environment), then `overrides`.
pub fn resolve(
    file: FileConfig,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let mut settings = Vec::new();
    let mut note = |key: &str, value: String, source: Source| {
        settings.push(Setting {
            key: key.to_string(),
            value,
            source,
        })
    };
    let mut policy = file.policy()?;
    if file
        .policy
        .as_ref()
        .is_some_and(|p| p.contains_key("mass_change_limit"))
    {
        return Err(ConfigError::Invalid(
            "opsync.toml: set the mass-change brake in [safety] (mass_change_percent, \
             mass_change_min_rows), not as policy.mass_change_limit"
                .into(),
        ));
    }
    let percent = file
        .safety
        .mass_change_percent
        .unwrap_or(MASS_CHANGE_PERCENT);
    if percent > 100 {
        return Err(ConfigError::Invalid(format!(
            "safety.mass_change_percent must be from 0 to 100 (100: no brake), not {percent}"
        )));
    }
    let min_rows = file
        .safety
        .mass_change_min_rows
        .unwrap_or(MASS_CHANGE_MIN_ROWS);
    policy.mass_change_limit = (!overrides.allow_mass_change && percent < 100)
        .then_some(opsync_engine::MassChangeLimit { percent, min_rows });
    let op = file.openprovider;
    let (username, source) = layered(
        (None, ""),
        (env("OPSYNC_OP_USERNAME"), "OPSYNC_OP_USERNAME"),
        op.username,
    )
    .ok_or(ConfigError::Missing {
        what: "the Openprovider username",
        hint: "set openprovider.username in opsync.toml or OPSYNC_OP_USERNAME",
    })?;
    note("openprovider.username", username.clone(), source);
    let (password, source) = layered(
        (None, ""),
        (
            env("OPSYNC_OP_PASSWORD").map(Secret::new),
            "OPSYNC_OP_PASSWORD",
        ),
        op.password,
    )
    .ok_or(ConfigError::Missing {
        what: "the Openprovider password",
        hint: "set openprovider.password in opsync.toml or OPSYNC_OP_PASSWORD",
    })?;
    note("openprovider.password", "***".into(), source);
    let mut client = ClientConfig::new(Credentials { username, password });
    let (base_url, source) = layered(
        (overrides.base_url.clone(), "--base-url"),
        (env("OPSYNC_OP_BASE_URL"), "OPSYNC_OP_BASE_URL"),
        op.base_url,
    )
    .unwrap_or_else(|| (DEFAULT_BASE_URL.to_string(), Source::Default));
    client.base_url = base_url;
    if !client.base_url.starts_with("https://") && !client.base_url.starts_with("http://127.") {
        return Err(ConfigError::Invalid(format!(
            "openprovider.base_url {} must use https (plain http only to 127.0.0.1, for the sandbox)",
            client.base_url
        )));
    }
    client.base_url = crate::openprovider::api_base(&client.base_url)
        .map_err(|e| ConfigError::Invalid(format!("openprovider.base_url: {e}")))?;
    note("openprovider.base_url", client.base_url.clone(), source);
    client.token_cache = op.token_cache;
    note(
        "openprovider.token_cache",
        client
            .token_cache
            .as_ref()
            .map_or("(none: log in every run)".into(), |p| {
                p.display().to_string()
            }),
        if client.token_cache.is_some() {
            Source::File
        } else {
            Source::Default
        },
    );
    if let Some(n) = op.concurrency {
        if !(1..=16).contains(&n) {
            return Err(ConfigError::Invalid(format!(
                "openprovider.concurrency must be from 1 to 16, not {n}"
            )));
        }
        client.concurrency = n;
    }
    note(
        "openprovider.concurrency",
        client.concurrency.to_string(),
        if op.concurrency.is_some() {
            Source::File
        } else {
            Source::Default
        },
    );
    if let Some(s) = op.timeout_seconds {
        client.timeout = Duration::from_secs(s.max(1));
    }
    note(
        "openprovider.timeout_seconds",
        client.timeout.as_secs().to_string(),
        if op.timeout_seconds.is_some() {
            Source::File
        } else {
            Source::Default
        },
    );

    let database_url = match layered(
        (overrides.database_url.clone(), "--database-url"),
        (env("OPSYNC_DATABASE_URL"), "OPSYNC_DATABASE_URL"),
        file.whmcs.database_url.map(|url| url.expose().to_string()),
    ) {
        Some((url, source)) => {
            note("whmcs.database_url", masked_url(&url), source);
            url
        }
        None => match &file.whmcs.configuration_php {
            Some(path) => {
                let url = database_url_from_configuration_php(path)?;
                note(
                    "whmcs.database_url",
                    masked_url(&url),
                    Source::ConfigurationPhp,
                );
                url
            }
            None => {
                return Err(ConfigError::Missing {
                    what: "the WHMCS database",
                    hint: "set whmcs.database_url or whmcs.configuration_php in opsync.toml, or OPSYNC_DATABASE_URL",
                })
            }
        },
    };

    let batch_size = overrides
        .batch_size
        .or(file.sync.batch_size)
        .filter(|n| *n > 0);
    note(
        "sync.batch_size",
        batch_size.map_or("(all rows)".into(), |n| n.to_string()),
        match (overrides.batch_size, file.sync.batch_size) {
            (Some(_), _) => Source::CommandLine("--batch"),
            (None, Some(_)) => Source::File,
            (None, None) => Source::Default,
        },
    );
    let send_empty_reports = overrides
        .send_empty_reports
        .or(file.mail.send_empty_reports)
        .unwrap_or(false);
    let mail = file.mail;
    let from_file = |set: bool| if set { Source::File } else { Source::Default };
    note(
        "mail.smtp_host",
        mail.smtp_host.clone().unwrap_or_else(|| "localhost".into()),
        from_file(mail.smtp_host.is_some()),
    );
    note(
        "mail.smtp_port",
        mail.smtp_port
            .map_or("(the security's default)".into(), |p| p.to_string()),
        from_file(mail.smtp_port.is_some()),
    );
    note(
        "mail.smtp_security",
        mail.smtp_security
            .clone()
            .unwrap_or_else(|| "starttls".into()),
        from_file(mail.smtp_security.is_some()),
    );
    note(
        "mail.smtp_username",
        mail.smtp_username
            .clone()
            .unwrap_or_else(|| "(none)".into()),
        from_file(mail.smtp_username.is_some()),
    );
    note(
        "mail.smtp_password",
        if mail.smtp_password.is_some() {
            "***".into()
        } else {
            "(none)".into()
        },
        from_file(mail.smtp_password.is_some()),
    );
    note(
        "mail.from",
        mail.from
            .clone()
            .unwrap_or_else(|| "(none: reports are printed, not mailed)".into()),
        from_file(mail.from.is_some()),
    );
    note(
        "mail.to",
        if mail.to.is_empty() {
            "(only the admins with System emails)".into()
        } else {
            mail.to.join(", ")
        },
        from_file(!mail.to.is_empty()),
    );
    note(
        "mail.send_empty_reports",
        send_empty_reports.to_string(),
        match (overrides.send_empty_reports, mail.send_empty_reports) {
            (Some(_), _) => Source::CommandLine("--send-empty"),
            (None, Some(_)) => Source::File,
            (None, None) => Source::Default,
        },
    );
    let safety_source = |set: bool| {
        if overrides.allow_mass_change {
            Source::CommandLine("--allow-mass-change")
        } else {
            from_file(set)
        }
    };
    let released = |value: String| {
        if overrides.allow_mass_change {
            format!("{value} (released for this run)")
        } else {
            value
        }
    };
    note(
        "safety.mass_change_percent",
        released(percent.to_string()),
        safety_source(file.safety.mass_change_percent.is_some()),
    );
    note(
        "safety.mass_change_min_rows",
        released(min_rows.to_string()),
        safety_source(file.safety.mass_change_min_rows.is_some()),
    );
    note(
        "report.whmcs_admin_url",
        file.report
            .whmcs_admin_url
            .clone()
            .unwrap_or_else(|| "(WHMCS's System URL + admin/)".into()),
        from_file(file.report.whmcs_admin_url.is_some()),
    );
    let repeat_still_open_hours = file
        .report
        .repeat_still_open_hours
        .unwrap_or(REPEAT_STILL_OPEN_HOURS);
    note(
        "report.repeat_still_open_hours",
        repeat_still_open_hours.to_string(),
        from_file(file.report.repeat_still_open_hours.is_some()),
    );
    let given = file.policy.unwrap_or_default();
    if let Ok(Value::Object(fields)) = serde_json::to_value(&policy) {
        for (key, value) in fields.into_iter().filter(|(k, _)| k != "mass_change_limit") {
            let shown = match value {
                Value::String(s) => s,
                Value::Null => "none".into(),
                other => other.to_string(),
            };
            note(
                &format!("policy.{key}"),
                shown,
                from_file(given.contains_key(&key)),
            );
        }
    }

    Ok(Config {
        database_url: Secret::new(database_url),
        openprovider: client,
        mail,
        batch_size,
        send_empty_reports,
        policy,
        settings,
        metrics_file: file.report.metrics_file,
        whmcs_admin_url: file.report.whmcs_admin_url,
        repeat_still_open_hours,
    })
}

/// The database URL from WHMCS's `configuration.php`. PHP itself reads the file (it is
/// PHP; a hand-made parser would misread quoting), and prints the `$db_*` settings.
pub fn database_url_from_configuration_php(path: &Path) -> Result<String, ConfigError> {
    let fail = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    if !path.is_file() {
        return Err(fail("no such file".into()));
    }
    let script = r#"error_reporting(0); include $argv[1];
        echo json_encode(['host' => $db_host ?? null, 'port' => $db_port ?? null,
            'username' => $db_username ?? null, 'password' => $db_password ?? null,
            'name' => $db_name ?? null]);"#;
    let out = std::process::Command::new("php")
        .args(["-r", script])
        .arg(path)
        .output()
        .map_err(|e| fail(format!("reading it needs the php command: {e}")))?;
    let settings: Value =
        serde_json::from_slice(&out.stdout).map_err(|_| fail("PHP could not read it".into()))?;
    let get = |key: &str| {
        settings[key]
            .as_str()
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    };
    let host = get("host").ok_or_else(|| fail("$db_host is not set".into()))?;
    let name = get("name").ok_or_else(|| fail("$db_name is not set".into()))?;
    let username = get("username").ok_or_else(|| fail("$db_username is not set".into()))?;
    let password = get("password").unwrap_or_default();
    let port = match &settings["port"] {
        Value::String(p) if !p.is_empty() => p
            .parse::<u16>()
            .map_err(|_| fail(format!("$db_port {p:?} is not a port")))?,
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(3306),
        _ => 3306,
    };
    let mut url = url::Url::parse("mysql://localhost").map_err(|e| fail(e.to_string()))?;
    let built = url.set_host(Some(&host)).is_ok()
        && url.set_port(Some(port)).is_ok()
        && url.set_username(&username).is_ok()
        && url
            .set_password(Some(password.as_str()).filter(|p| !p.is_empty()))
            .is_ok();
    if !built {
        return Err(fail(format!("$db_host {host:?} is not a host name")));
    }
    url.set_path(&name);
    Ok(url.to_string())
}
