//! Configuration: `opsync.toml`, then the environment, then the command line, each
//! overriding the one before. An unknown key is an error that names it; a missing
//! setting is an error that says where to set it. See `opsync.example.toml`.
//!
//! This host reads where things are (the database, the credentials, mail, files); what a
//! sync does (`[policy]`, `[safety]`, `[sync]`, the report's and the API's settings) it
//! hands to the engine as written, and the engine's reading is the one both hosts share.

use std::path::{Path, PathBuf};

use opsync_engine::Policy;
use serde::Deserialize;
use serde_json::Value;

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

/// A password or token: printed as `***`, never as itself.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
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
    /// The engine's policy, read by the engine.
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
    pub concurrency: Option<toml::Value>,
    pub timeout_seconds: Option<toml::Value>,
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
    pub send_empty_reports: Option<toml::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSection {
    /// Rows per run; 0 or absent: all.
    pub batch_size: Option<toml::Value>,
    /// A batch leaves out rows synced less than this many hours ago.
    pub min_age_hours: Option<toml::Value>,
}

/// The mass-change brake (read by the engine).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetySection {
    pub mass_change_percent: Option<toml::Value>,
    pub mass_change_min_rows: Option<toml::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSection {
    /// Prometheus metrics after each sync (node_exporter's textfile collector).
    pub metrics_file: Option<PathBuf>,
    pub whmcs_admin_url: Option<toml::Value>,
    pub repeat_still_open_hours: Option<toml::Value>,
}

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
    Environment(String),
    /// A command-line option, named.
    CommandLine(String),
    /// WHMCS's `configuration.php`.
    ConfigurationPhp,
    /// Not set anywhere: opsync's default.
    Default,
}

impl Source {
    /// The source as the engine's reading names it.
    fn from_engine(source: &str) -> Source {
        match source {
            "file" => Source::File,
            "default" => Source::Default,
            s => match s.strip_prefix("command line ") {
                Some(option) => Source::CommandLine(option.to_string()),
                None => match s.strip_prefix("environment ") {
                    Some(var) => Source::Environment(var.to_string()),
                    None => Source::File,
                },
            },
        }
    }
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

/// Everything a run needs, resolved. What the sync does (the policy, the brake, the batch,
/// the API's address) is the engine's reading of [`Config::raw_settings`]; this host
/// keeps only where things are: the database, the credentials, mail, files.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    pub username: String,
    pub password: Secret,
    /// The API's address as given (command line, environment or file) and where.
    pub base_url: Option<(String, Source)>,
    /// Where the Openprovider session is kept between runs; `None`: log in every run.
    pub token_cache: Option<PathBuf>,
    pub mail: MailSection,
    pub metrics_file: Option<PathBuf>,
    /// opsync.toml's sections the engine reads, as they were written.
    pub file_settings: Value,
    /// The command line's part of a run's options.
    pub options: opsync_engine::run::Options,
    /// The engine's reading of the settings.
    pub engine: opsync_engine::run::Settings,
    /// Every setting, where it came from, secrets masked.
    pub settings: Vec<Setting>,
}

impl Config {
    /// The settings a run starts from, raw, for the engine to read.
    pub fn raw_settings(&self) -> Value {
        raw_settings(
            &self.file_settings,
            &self.username,
            &self.password,
            self.base_url.as_ref(),
        )
    }

    /// The engine's policy (for `opsync laws`).
    pub fn policy(&self) -> &Policy {
        &self.engine.policy
    }
}

fn raw_settings(
    file_settings: &Value,
    username: &str,
    password: &Secret,
    base_url: Option<&(String, Source)>,
) -> Value {
    let mut api = serde_json::json!({
        "username": username,
        "password": password.expose(),
    });
    if let Some((url, source)) = base_url {
        api["base_url"] = Value::from(url.clone());
        api["base_url_source"] = Value::from(source.to_string());
    }
    serde_json::json!({ "opsync_toml": file_settings, "api": api })
}

/// The first of the layers that holds a value, and which one it was.
fn layered<T>(
    command_line: (Option<T>, &'static str),
    environment: (Option<T>, &'static str),
    file: Option<T>,
) -> Option<(T, Source)> {
    command_line
        .0
        .map(|v| (v, Source::CommandLine(command_line.1.into())))
        .or_else(|| {
            environment
                .0
                .map(|v| (v, Source::Environment(environment.1.into())))
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

    /// The policy alone, as the engine reads it from this file (for `opsync laws`: no
    /// credentials are needed, so none are given).
    pub fn policy(&self) -> Result<Policy, ConfigError> {
        let raw = serde_json::json!({
            "opsync_toml": self.engine_sections(),
            "api": {"username": "(not needed)", "password": "(not needed)"},
        });
        opsync_engine::run::settings::read(&raw, &Default::default())
            .map(|s| s.policy)
            .map_err(|e| ConfigError::Invalid(e.0))
    }

    /// The sections the engine reads, as JSON, each key as written.
    fn engine_sections(&self) -> Value {
        let mut sections = serde_json::Map::new();
        let mut put = |section: &str, key: &str, value: &Option<toml::Value>| {
            if let Some(v) = value {
                let entry = sections
                    .entry(section.to_string())
                    .or_insert_with(|| Value::Object(Default::default()));
                entry[key] = serde_json::to_value(v).unwrap_or(Value::Null);
            }
        };
        put(
            "safety",
            "mass_change_percent",
            &self.safety.mass_change_percent,
        );
        put(
            "safety",
            "mass_change_min_rows",
            &self.safety.mass_change_min_rows,
        );
        put("sync", "batch_size", &self.sync.batch_size);
        put("sync", "min_age_hours", &self.sync.min_age_hours);
        put("mail", "send_empty_reports", &self.mail.send_empty_reports);
        put("report", "whmcs_admin_url", &self.report.whmcs_admin_url);
        put(
            "report",
            "repeat_still_open_hours",
            &self.report.repeat_still_open_hours,
        );
        put(
            "openprovider",
            "concurrency",
            &self.openprovider.concurrency,
        );
        put(
            "openprovider",
            "timeout_seconds",
            &self.openprovider.timeout_seconds,
        );
        if let Some(policy) = &self.policy {
            sections.insert(
                "policy".into(),
                serde_json::to_value(policy).unwrap_or(Value::Null),
            );
        }
        Value::Object(sections)
    }
}

/// Resolves the layers: the file, then `env` (a lookup, so tests need not touch the
/// process environment), then `overrides`; the engine reads what the sync does.
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
    let op = file.openprovider.clone();
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
    let base_url = layered(
        (overrides.base_url.clone(), "--base-url"),
        (env("OPSYNC_OP_BASE_URL"), "OPSYNC_OP_BASE_URL"),
        op.base_url,
    );
    let token_cache = op.token_cache;
    note(
        "openprovider.token_cache",
        token_cache
            .as_ref()
            .map_or("(none: log in every run)".into(), |p| {
                p.display().to_string()
            }),
        if token_cache.is_some() {
            Source::File
        } else {
            Source::Default
        },
    );

    let options = opsync_engine::run::Options {
        batch: overrides.batch_size.map(|n| n as u64),
        allow_mass_change: overrides.allow_mass_change,
        send_empty: overrides.send_empty_reports,
        ..Default::default()
    };
    let file_settings = file.engine_sections();
    let raw = raw_settings(&file_settings, &username, &password, base_url.as_ref());
    let engine = opsync_engine::run::settings::read(&raw, &options)
        .map_err(|e| ConfigError::Invalid(e.0))?;
    let mail = file.mail.clone();
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

    let database_url = match layered(
        (overrides.database_url.clone(), "--database-url"),
        (env("OPSYNC_DATABASE_URL"), "OPSYNC_DATABASE_URL"),
        file.whmcs.database_url.clone().map(|url| url.expose().to_string()),
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

    for shown in &engine.shown {
        settings.push(Setting {
            key: shown.key.clone(),
            value: shown.value.clone(),
            source: Source::from_engine(&shown.source),
        });
    }
    Ok(Config {
        database_url: Secret::new(database_url),
        username,
        password,
        base_url,
        token_cache,
        mail,
        metrics_file: file.report.metrics_file.clone(),
        file_settings,
        options,
        engine,
        settings,
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
