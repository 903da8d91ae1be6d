//! The settings: what each host read, raw, turned into one reading. Every setting, its
//! places (opsync.toml, the addon's page, the Openprovider module's advanced
//! configuration), its kind and its default are in [`SETTINGS`]; both hosts hand over
//! what they found and the engine decides what it means, so the native runner and the
//! drop-in can never read one value two ways.
//!
//! The raw settings a [`Start`](super::Start) carries:
//!
//! ```json
//! { "opsync_toml": { "policy": {...}, "safety": {...}, ... },   // the native runner
//!   "addon": { "sync_status": "on", ... },                       // or the drop-in
//!   "module": { "syncDomainStatus": true, ... },                 // the module's file (drop-in)
//!   "api": { "username": "...", "password": "...", "test_mode": "on",
//!            "base_url": "...", "base_url_source": "environment OPSYNC_OP_BASE_URL" },
//!   "whmcs": { "admin_folder": "admin" } }
//! ```
//!
//! The strongest place that says something wins, setting by setting: the command line
//! (the run's options), then opsync's own settings (opsync.toml or the addon's), then the
//! module's file, then the default. An addon field left empty (or `inherit`) says nothing.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::policy::{MassChangeLimit, Policy, PER_EXTENSION_FIELDS};
use crate::status::WhmcsStatus;

use super::protocol::Options;

/// Openprovider's production API.
pub const DEFAULT_API_URL: &str = "https://api.openprovider.eu/v1beta";

/// The largest due-date offset, in days, either way (ten years).
const MAX_OFFSET_DAYS: i64 = 3650;

/// What a setting holds, and how a raw value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// true/false, 1/0, "on"/"off", "yes"/"no", "true"/"false", "1"/"0".
    Flag,
    /// "expiration_date" or "renewal_date"; a flag means renewal date when true (the
    /// module's `renewalDateSync`).
    Source,
    /// Whole days from ten years before to ten years after (negative: the due date after
    /// the expiry, as the module allows).
    Offset,
    /// Whole days, or "none" (no guard).
    Guard,
    /// WHMCS statuses: a list, or text separated by commas.
    Statuses,
    /// A whole number from `min` to `max`.
    Number { min: i64, max: i64 },
    /// Text (a URL).
    Text,
}

/// One setting and every place it can be set.
#[derive(Debug, Clone, Copy)]
struct Setting {
    /// The engine's name (and the addon's field).
    name: &'static str,
    /// Where opsync.toml holds it (`section.key`); `None`: not a file setting.
    toml: Option<&'static str>,
    /// Whether the addon's settings page has it.
    addon: bool,
    /// The Openprovider module's advanced configuration key.
    module: Option<&'static str>,
    kind: Kind,
    /// What it does, for `opsync check` and the addon page.
    meaning: &'static str,
}

const fn setting(
    name: &'static str,
    toml: Option<&'static str>,
    module: Option<&'static str>,
    kind: Kind,
    meaning: &'static str,
) -> Setting {
    Setting {
        name,
        toml,
        addon: true,
        module,
        kind,
        meaning,
    }
}

/// Every setting a run reads, in the order they are shown.
const SETTINGS: &[Setting] = &[
    setting("sync_status", Some("policy.sync_status"), Some("syncDomainStatus"), Kind::Flag,
        "Openprovider's status leads the WHMCS status"),
    setting("sync_expiry_date", Some("policy.sync_expiry_date"), Some("syncExpiryDate"), Kind::Flag,
        "Openprovider's date leads the WHMCS expiry date"),
    setting("expiry_source", Some("policy.expiry_source"), Some("renewalDateSync"), Kind::Source,
        "which Openprovider date is the expiry"),
    setting("sync_due_date", Some("policy.sync_due_date"), Some("updateNextDueDate"), Kind::Flag,
        "the next due date (and invoice date) follow the expiry"),
    setting("due_date_offset_days", Some("policy.due_date_offset_days"), Some("nextDueDateOffset"), Kind::Offset,
        "the due date is this many days before the expiry (negative: after it)"),
    setting("due_date_max_shift_days", Some("policy.due_date_max_shift_days"), Some("nextDueDateUpdateMaxDayDifference"), Kind::Guard,
        "a larger due-date move is reported, not made"),
    setting("sync_auto_renew", Some("policy.sync_auto_renew"), Some("syncAutoRenewSetting"), Kind::Flag,
        "WHMCS's auto-renew leads Openprovider's"),
    setting("sync_whois_privacy", Some("policy.sync_whois_privacy"), Some("syncIdentityProtectionToggle"), Kind::Flag,
        "WHMCS's ID protection leads WHOIS privacy"),
    setting("protected_statuses", Some("policy.protected_statuses"), None, Kind::Statuses,
        "WHMCS statuses never changed, on either side"),
    setting("mass_change_percent", Some("safety.mass_change_percent"), None, Kind::Number { min: 0, max: 100 },
        "the mass-change brake: a run in which more than this share of the rows would change is held (100: no brake)"),
    setting("mass_change_min_rows", Some("safety.mass_change_min_rows"), None, Kind::Number { min: 0, max: i64::MAX },
        "the mass-change brake: ... and more than this many rows"),
    setting("batch_size", Some("sync.batch_size"), Some("domainProcessingLimit"), Kind::Number { min: 0, max: i64::MAX },
        "rows per run, the longest unsynced first (0: all)"),
    setting("min_age_hours", Some("sync.min_age_hours"), Some("updateInterval"), Kind::Number { min: 0, max: 8760 },
        "a batched run leaves out rows synced less than this many hours ago (0: none)"),
    setting("send_empty", Some("mail.send_empty_reports"), Some("sendEmptyActivityEmail"), Kind::Flag,
        "mail a report even when nothing changed"),
    setting("repeat_still_open_hours", Some("report.repeat_still_open_hours"), None, Kind::Number { min: 0, max: u32::MAX as i64 },
        "problems already reported are listed in full again after this many hours (0: every report)"),
    setting("admin_url", Some("report.whmcs_admin_url"), None, Kind::Text,
        "the WHMCS admin area, for a link to each domain in the report"),
    setting("concurrency", Some("openprovider.concurrency"), None, Kind::Number { min: 1, max: 16 },
        "Openprovider requests in flight at once"),
    setting("timeout_seconds", Some("openprovider.timeout_seconds"), None, Kind::Number { min: 1, max: 3600 },
        "the longest wait for one Openprovider answer"),
    setting("run_from_cron", None, None, Kind::Flag,
        "sync after WHMCS's own cron job, at most once per interval"),
    setting("cron_interval_hours", None, None, Kind::Number { min: 0, max: 8760 },
        "at most one run from WHMCS's cron per this many hours"),
];

/// The brake's defaults: more than 10% of the rows and more than 25 rows.
const MASS_CHANGE_PERCENT: i64 = 10;
const MASS_CHANGE_MIN_ROWS: i64 = 25;
/// Still-open problems are listed in full once a day.
const REPEAT_STILL_OPEN_HOURS: i64 = 24;
/// Requests in flight at once, and the longest wait for one answer.
const CONCURRENCY: i64 = 8;
const TIMEOUT_SECONDS: i64 = 30;
/// Runs from WHMCS's cron: at most one an hour.
const CRON_INTERVAL_HOURS: i64 = 1;
/// Which Openprovider date a run takes as the expiry when nobody says: the renewal date,
/// as Openprovider's API documentation says to use for renewals (and the module's
/// shipped `renewalDateSync` true). `decide`'s own default stays the contract's.
const EXPIRY_SOURCE: &str = "renewal_date";
/// What the module's `syncUseNativeWHMCS` true turns off unless opsync's own settings say
/// otherwise: its cron then pushed neither auto-renew nor ID protection and moved no due
/// dates.
const NATIVE_WHMCS_OFF: [&str; 3] = ["sync_due_date", "sync_auto_renew", "sync_whois_privacy"];

/// A setting that cannot be used: one line naming it and where it was set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

/// One setting as `opsync check` and the addon page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shown {
    /// The name where it is set (`policy.due_date_offset_days` in opsync.toml, the
    /// addon's field name otherwise).
    pub key: String,
    pub value: String,
    /// `file`, `opsync addon`, `Openprovider module (nextDueDateOffset)`, `command line
    /// --batch`, `default`, ...
    pub source: String,
    pub meaning: String,
}

/// What a run does, read once. Its `Debug` leaves the password out.
#[derive(Clone, PartialEq)]
pub struct Settings {
    pub policy: Policy,
    /// Rows per run; `None`: all.
    pub batch: Option<u64>,
    pub send_empty: bool,
    pub repeat_still_open_hours: u32,
    /// `None`: WHMCS's System URL followed by the admin folder.
    pub admin_url: Option<String>,
    /// The admin area's folder under the System URL.
    pub admin_folder: String,
    pub concurrency: usize,
    pub timeout_ms: u64,
    /// The API's base URL, with `/v1beta`.
    pub api_url: String,
    pub username: String,
    pub password: String,
    pub run_from_cron: bool,
    pub cron_interval_hours: u64,
    /// A batched run leaves out rows synced less than this many hours ago.
    pub min_age_hours: u64,
    /// Whether the brake was released for this run.
    pub brake_released: bool,
    /// The extensions the module renews once a transfer completes (its
    /// `renewTldsUponTransferCompletion`, lower case, no leading dot): WHMCS's transfer
    /// sync of such a domain is left to the module.
    pub renew_after_transfer: Vec<String>,
    /// Every setting, its value and where it came from, secrets left out.
    pub shown: Vec<Shown>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("policy", &self.policy)
            .field("batch", &self.batch)
            .field("api_url", &self.api_url)
            .field("username", &self.username)
            .field("password", &"***")
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

/// Where a raw value was found.
struct Found<'a> {
    value: &'a Value,
    /// How `shown` names the place.
    source: String,
    /// How an error names the setting there.
    named: String,
}

/// The layers as the host handed them over.
struct Layers<'a> {
    toml: Option<&'a Map<String, Value>>,
    addon: Option<&'a Map<String, Value>>,
    module: Option<&'a Map<String, Value>>,
}

impl<'a> Layers<'a> {
    /// The strongest place that sets `s`.
    fn find(&self, s: &Setting) -> Option<Found<'a>> {
        if let (Some(toml), Some(path)) = (self.toml, s.toml) {
            let (section, key) = path.split_once('.').unwrap_or(("", path));
            if let Some(value) = toml.get(section).and_then(|v| v.get(key)) {
                return Some(Found {
                    value,
                    source: "file".into(),
                    named: format!("opsync.toml: {path}"),
                });
            }
        }
        if let Some(addon) = self.addon.filter(|_| s.addon) {
            if let Some(value) = addon.get(s.name).filter(|v| !unset(v)) {
                return Some(Found {
                    value,
                    source: "opsync addon".into(),
                    named: format!("the opsync addon's setting {}", s.name),
                });
            }
        }
        if let (Some(module), Some(key)) = (self.module, s.module) {
            // `array_key_exists`, as the module reads it: a 0 or false is a value.
            if let Some(value) = module.get(key) {
                return Some(Found {
                    value,
                    source: format!("Openprovider module ({key})"),
                    named: format!("advanced-module-configurations.php: {key}"),
                });
            }
        }
        None
    }
}

/// An addon field left empty, or set to `inherit`, says nothing.
fn unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => {
            let s = s.trim();
            s.is_empty() || s.eq_ignore_ascii_case("inherit")
        }
        _ => false,
    }
}

fn object<'a>(raw: &'a Value, key: &str) -> Result<Option<&'a Map<String, Value>>, SettingsError> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(SettingsError(format!(
            "settings.{key}: expected an object of settings"
        ))),
    }
}

/// The host's raw settings and the run's options, read.
pub fn read(raw: &Value, options: &Options) -> Result<Settings, SettingsError> {
    if !raw.is_object() {
        return Err(SettingsError("settings: expected an object".into()));
    }
    let layers = Layers {
        toml: object(raw, "opsync_toml")?,
        addon: object(raw, "addon")?,
        module: object(raw, "module")?,
    };
    if let Some(toml) = layers.toml {
        check_toml(toml)?;
    }
    let mut shown = Vec::new();
    let mut policy = Map::new();
    let mut read = Read {
        layers: &layers,
        shown: &mut shown,
    };

    let native = read.native_whmcs()?;
    for name in PER_EXTENSION_FIELDS
        .into_iter()
        .chain(["protected_statuses"])
    {
        let s = setting_named(name);
        let default = match name {
            "expiry_source" => Value::from(EXPIRY_SOURCE),
            _ => serde_json::to_value(Policy::default())
                .ok()
                .and_then(|p| p.get(name).cloned())
                .unwrap_or(Value::Null),
        };
        let value = if native && NATIVE_WHMCS_OFF.contains(&name) {
            read.unless_opsync_says(s, Value::Bool(false))?
        } else {
            read.value(s, default)?
        };
        policy.insert(name.to_string(), value);
    }

    let percent = read.number_with_source(
        setting_named("mass_change_percent"),
        MASS_CHANGE_PERCENT,
        options
            .allow_mass_change
            .then_some("command line --allow-mass-change"),
    )?;
    let min_rows = read.number_with_source(
        setting_named("mass_change_min_rows"),
        MASS_CHANGE_MIN_ROWS,
        options
            .allow_mass_change
            .then_some("command line --allow-mass-change"),
    )?;
    let limit = (!options.allow_mass_change && percent < 100).then_some(MassChangeLimit {
        percent: percent as u32,
        min_rows: min_rows as u64,
    });
    if options.allow_mass_change {
        for s in read
            .shown
            .iter_mut()
            .filter(|s| s.key.contains("mass_change"))
        {
            s.value = format!("{} (released for this run)", s.value);
        }
    }

    let rows_shown = |n: u64| {
        if n == 0 {
            "(all rows)".to_string()
        } else {
            n.to_string()
        }
    };
    let batch_size = setting_named("batch_size");
    let batch = if options.all {
        read.fixed(batch_size, "(all rows)", "command line --all");
        0
    } else if let Some(n) = options.batch {
        read.fixed(batch_size, &rows_shown(n), "command line --batch");
        n
    } else {
        read.number_shown(batch_size, 0, |n| rows_shown(n as u64))? as u64
    };
    let batch = Some(batch).filter(|n| *n > 0);

    let send_empty = match options.send_empty {
        Some(b) => {
            read.fixed(
                setting_named("send_empty"),
                &b.to_string(),
                "command line --send-empty",
            );
            b
        }
        None => read.flag(setting_named("send_empty"), false)?,
    };
    let repeat = read.number(
        setting_named("repeat_still_open_hours"),
        REPEAT_STILL_OPEN_HOURS,
    )?;
    let admin_url = read.text(
        setting_named("admin_url"),
        "(WHMCS's System URL + admin folder)",
    )?;
    let min_age = if batch.is_some() {
        read.number(setting_named("min_age_hours"), 0)?
    } else {
        read.fixed(
            setting_named("min_age_hours"),
            "0",
            "(every row: the run is not batched)",
        );
        0
    };
    let concurrency = read.number(setting_named("concurrency"), CONCURRENCY)?;
    let timeout = read.number(setting_named("timeout_seconds"), TIMEOUT_SECONDS)?;
    let run_from_cron = if layers.addon.is_some() {
        read.flag(setting_named("run_from_cron"), false)?
    } else {
        false
    };
    let cron_interval = if layers.addon.is_some() {
        read.number(setting_named("cron_interval_hours"), CRON_INTERVAL_HOURS)?
            .max(1)
    } else {
        CRON_INTERVAL_HOURS
    };

    let renew_after_transfer = read.renew_after_transfer();

    // v1.4's tables: opsync.toml's [policy.exclude] and [policy.by_extension.<ext>], or
    // the addon's fields (exclude_domains, exclude_extensions, by_extension) in their place.
    let toml_policy = layers.toml.and_then(|t| t.get("policy"));
    let addon_rules = match layers.addon {
        Some(addon) => addon_book_rules(addon)?,
        None => Map::new(),
    };
    let mut sources = Vec::new();
    for key in TOML_POLICY_TABLES {
        if let Some(v) = toml_policy.and_then(|p| p.get(key)) {
            policy.insert(key.to_string(), v.clone());
            sources.push((key, "file", "opsync.toml: "));
        } else if let Some(v) = addon_rules.get(key) {
            policy.insert(key.to_string(), v.clone());
            sources.push((key, "opsync addon", "the opsync addon's settings: "));
        }
    }
    let mut policy = Policy::from_value(&Value::Object(policy), "policy").map_err(|e| {
        let key = e.path.split('.').nth(1).unwrap_or_default();
        let place = sources
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or("", |(_, _, place)| *place);
        SettingsError(format!("{place}{e}"))
    })?;
    let source = |key: &str| {
        sources
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or("file", |(_, source, _)| *source)
    };
    show_book_rules(
        &policy,
        read.shown,
        source("exclude"),
        source("by_extension"),
    );
    policy.mass_change_limit = limit;

    let api = object(raw, "api")?;
    let (api_url, username, password) = api_settings(api, layers.module, &mut shown)?;
    let admin_folder = object(raw, "whmcs")?
        .and_then(|w| w.get("admin_folder"))
        .and_then(Value::as_str)
        .map(|f| {
            f.trim_matches(|c: char| c == '/' || c.is_whitespace())
                .to_string()
        })
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "admin".to_string());

    Ok(Settings {
        policy,
        batch,
        send_empty,
        repeat_still_open_hours: repeat as u32,
        admin_url,
        admin_folder,
        concurrency: concurrency as usize,
        timeout_ms: timeout as u64 * 1000,
        api_url,
        username,
        password,
        run_from_cron,
        cron_interval_hours: cron_interval as u64,
        min_age_hours: min_age as u64,
        brake_released: options.allow_mass_change,
        renew_after_transfer,
        shown,
    })
}

/// The policy's tables opsync.toml may hold besides the fields of [`SETTINGS`] (v1.4).
const TOML_POLICY_TABLES: [&str; 2] = ["exclude", "by_extension"];

/// One shown line for the exclusions and one per extension's rules, as the policy read
/// them (normalised).
fn show_book_rules(policy: &Policy, shown: &mut Vec<Shown>, exclude_from: &str, rules_from: &str) {
    let exclude = &policy.exclude;
    if !exclude.is_empty() {
        let list = |l: &[String]| {
            if l.is_empty() {
                "none".to_string()
            } else {
                l.join(", ")
            }
        };
        shown.push(Shown {
            key: "policy.exclude".into(),
            value: format!(
                "domains: {}; extensions: {}",
                list(&exclude.domains),
                list(&exclude.extensions)
            ),
            source: exclude_from.into(),
            meaning: "rows and Openprovider records of these names and extensions are left \
                      out: nothing changes on either side, each row is reported as excluded"
                .into(),
        });
    }
    for entry in &policy.by_extension {
        let fields: Vec<String> = entry
            .fields
            .iter()
            .map(|(k, v)| format!("{k} = {}", shown_value(v)))
            .collect();
        shown.push(Shown {
            key: format!("policy.by_extension.{}", entry.extension),
            value: fields.join(", "),
            source: rules_from.into(),
            meaning: format!(
                "rows and records under .{} take these over the policy above (the longest \
                 matching extension wins)",
                entry.extension
            ),
        });
    }
}

/// The addon's fields for v1.4's tables, as the policy's JSON: `exclude_domains` and
/// `exclude_extensions` (names separated by commas, spaces or lines), and `by_extension`
/// (one line per extension: `eu: due_date_offset_days = 30, expiry_source = renewal_date`;
/// a value is true/false (yes/no, on/off), a whole number, none, or text).
fn addon_book_rules(addon: &Map<String, Value>) -> Result<Map<String, Value>, SettingsError> {
    let text = |key: &str| {
        addon
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("")
    };
    let list = |key: &str| -> Vec<Value> {
        text(key)
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(Value::from)
            .collect()
    };
    let mut rules = Map::new();
    let (domains, extensions) = (list("exclude_domains"), list("exclude_extensions"));
    if !domains.is_empty() || !extensions.is_empty() {
        rules.insert(
            "exclude".into(),
            json!({"domains": domains, "extensions": extensions}),
        );
    }
    let mut by = Map::new();
    for (n, line) in text("by_extension").lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| {
            SettingsError(format!(
                "the opsync addon's setting by_extension, line {}: {why} (write \
                 \"eu: due_date_offset_days = 30, expiry_source = renewal_date\")",
                n + 1
            ))
        };
        let (extension, fields) = line
            .split_once(':')
            .ok_or_else(|| bad("expected the extension, a colon, then its fields"))?;
        let mut entry = Map::new();
        for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| bad(&format!("{field:?} is not field = value")))?;
            let value = value.trim().trim_matches('"');
            let value = match value.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => Value::Bool(true),
                "false" | "no" | "off" => Value::Bool(false),
                "none" => Value::Null,
                _ => value
                    .parse::<i64>()
                    .map_or_else(|_| Value::from(value), Value::from),
            };
            entry.insert(key.trim().to_string(), value);
        }
        by.insert(extension.trim().to_string(), Value::Object(entry));
    }
    if !by.is_empty() {
        rules.insert("by_extension".into(), Value::Object(by));
    }
    Ok(rules)
}

fn setting_named(name: &str) -> &'static Setting {
    SETTINGS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or(&SETTINGS[0])
}

/// opsync.toml's settings sections hold only keys the table knows (its other sections,
/// credentials and mail, are the native runner's own).
fn check_toml(toml: &Map<String, Value>) -> Result<(), SettingsError> {
    for (section, keys) in toml {
        let Some(keys) = keys.as_object() else {
            continue;
        };
        for key in keys.keys() {
            let path = format!("{section}.{key}");
            if section == "policy" && key == "mass_change_limit" {
                return Err(SettingsError(
                    "opsync.toml: set the mass-change brake in [safety] (mass_change_percent, \
                     mass_change_min_rows), not as policy.mass_change_limit"
                        .into(),
                ));
            }
            let known = SETTINGS.iter().any(|s| s.toml == Some(path.as_str()))
                || (section == "policy" && TOML_POLICY_TABLES.contains(&key.as_str()));
            if section == "policy" && !known {
                return Err(SettingsError(format!(
                    "opsync.toml: policy.{key}: unknown policy field"
                )));
            }
        }
    }
    Ok(())
}

/// Reads settings one by one, noting each as shown.
struct Read<'a, 'l> {
    layers: &'a Layers<'l>,
    shown: &'a mut Vec<Shown>,
}

impl Read<'_, '_> {
    fn key(&self, s: &Setting) -> String {
        match (self.layers.toml.is_some(), s.toml) {
            (true, Some(path)) => path.to_string(),
            _ => s.name.to_string(),
        }
    }

    fn show(&mut self, s: &Setting, value: String, source: String) {
        let key = self.key(s);
        self.shown.push(Shown {
            key,
            value,
            source,
            meaning: s.meaning.to_string(),
        });
    }

    /// A policy field's value as the policy reads it (`default` when nobody set it).
    fn value(&mut self, s: &Setting, default: Value) -> Result<Value, SettingsError> {
        let Some(found) = self.layers.find(s) else {
            self.show(s, shown_value(&default), "default".into());
            return Ok(default);
        };
        let value = match s.kind {
            Kind::Flag => Value::Bool(flag(found.value, &found.named)?),
            Kind::Source => Value::String(source(found.value, &found.named)?.into()),
            Kind::Offset => json!(whole(
                found.value,
                &found.named,
                -MAX_OFFSET_DAYS,
                MAX_OFFSET_DAYS
            )?),
            Kind::Guard => match found.value {
                Value::String(t) if t.trim().eq_ignore_ascii_case("none") => Value::Null,
                v => json!(whole(v, &found.named, 0, i64::from(i32::MAX))?),
            },
            Kind::Statuses => Value::from(statuses(found.value, &found.named)?),
            Kind::Number { min, max } => json!(whole(found.value, &found.named, min, max)?),
            Kind::Text => found.value.clone(),
        };
        self.show(s, shown_value(&value), found.source);
        Ok(value)
    }

    /// Whether the module's file says `syncUseNativeWHMCS` true (shown when it says
    /// anything).
    fn native_whmcs(&mut self) -> Result<bool, SettingsError> {
        let key = "syncUseNativeWHMCS";
        let Some(value) = self.layers.module.and_then(|m| m.get(key)) else {
            return Ok(false);
        };
        let native = flag(value, &format!("advanced-module-configurations.php: {key}"))?;
        self.shown.push(Shown {
            key: key.into(),
            value: native.to_string(),
            source: format!("Openprovider module ({key})"),
            meaning: if native {
                "true: as with the module's own cron, opsync pushes neither auto-renew nor ID \
                 protection and moves no due dates, unless opsync's settings turn them on"
            } else {
                "false: the module's settings for auto-renew, ID protection and due dates apply"
            }
            .into(),
        });
        Ok(native)
    }

    /// The module's `renewTldsUponTransferCompletion` ("nl, eu, be"; shown when it names
    /// any). The module compared the text after a domain's first label with each item as
    /// written; opsync trims and lower-cases them, so a list the module half matched
    /// leaves at least as many domains to it.
    fn renew_after_transfer(&mut self) -> Vec<String> {
        let key = "renewTldsUponTransferCompletion";
        let Some(Value::String(list)) = self.layers.module.and_then(|m| m.get(key)) else {
            return Vec::new();
        };
        let tlds: Vec<String> = list
            .split(',')
            .map(|t| t.trim().trim_start_matches('.').to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if !tlds.is_empty() {
            self.shown.push(Shown {
                key: key.into(),
                value: tlds.join(", "),
                source: format!("Openprovider module ({key})"),
                meaning: "the module renews these once a transfer completes: WHMCS's transfer \
                          sync of such a domain is left to the module's own \
                          openprovider_TransferSync"
                    .into(),
            });
        }
        tlds
    }

    /// A policy flag that only opsync's own settings (the file, the addon) may turn on:
    /// otherwise `value`, from the module's `syncUseNativeWHMCS`.
    fn unless_opsync_says(&mut self, s: &Setting, value: Value) -> Result<Value, SettingsError> {
        let own = Layers {
            toml: self.layers.toml,
            addon: self.layers.addon,
            module: None,
        };
        if own.find(s).is_some() {
            return self.value(s, value);
        }
        self.show(
            s,
            shown_value(&value),
            "Openprovider module (syncUseNativeWHMCS)".into(),
        );
        Ok(value)
    }

    fn flag(&mut self, s: &Setting, default: bool) -> Result<bool, SettingsError> {
        match self.value(s, Value::Bool(default))? {
            Value::Bool(b) => Ok(b),
            _ => Ok(default),
        }
    }

    fn number(&mut self, s: &Setting, default: i64) -> Result<i64, SettingsError> {
        self.number_shown(s, default, |n| n.to_string())
    }

    fn number_shown(
        &mut self,
        s: &Setting,
        default: i64,
        shown: impl Fn(i64) -> String,
    ) -> Result<i64, SettingsError> {
        let Kind::Number { min, max } = s.kind else {
            return Ok(default);
        };
        let (n, source) = match self.layers.find(s) {
            Some(found) => (whole(found.value, &found.named, min, max)?, found.source),
            None => (default, "default".to_string()),
        };
        self.show(s, shown(n), source);
        Ok(n)
    }

    /// A number whose source reads differently when the command line overrides it.
    fn number_with_source(
        &mut self,
        s: &Setting,
        default: i64,
        overridden: Option<&str>,
    ) -> Result<i64, SettingsError> {
        let n = self.number(s, default)?;
        if let (Some(by), Some(last)) = (overridden, self.shown.last_mut()) {
            last.source = by.to_string();
        }
        Ok(n)
    }

    fn fixed(&mut self, s: &Setting, value: &str, source: &str) {
        self.show(s, value.to_string(), source.to_string());
    }

    fn text(&mut self, s: &Setting, absent: &str) -> Result<Option<String>, SettingsError> {
        match self.layers.find(s) {
            Some(found) => {
                let text = found
                    .value
                    .as_str()
                    .map(|t| t.trim().to_string())
                    .ok_or_else(|| {
                        SettingsError(format!("{} must be text, not {}", found.named, found.value))
                    })?;
                self.show(s, text.clone(), found.source);
                Ok(Some(text))
            }
            None => {
                self.show(s, absent.to_string(), "default".into());
                Ok(None)
            }
        }
    }
}

/// A value as `shown` writes it: text as is, null as `none`, the rest as JSON.
fn shown_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

fn flag(v: &Value, named: &str) -> Result<bool, SettingsError> {
    let text = match v {
        Value::Bool(b) => return Ok(*b),
        Value::Number(n) if n.as_i64() == Some(1) => return Ok(true),
        Value::Number(n) if n.as_i64() == Some(0) => return Ok(false),
        Value::String(s) => s.trim().to_ascii_lowercase(),
        _ => String::new(),
    };
    match text.as_str() {
        "1" | "on" | "yes" | "true" => Ok(true),
        "0" | "off" | "no" | "false" => Ok(false),
        _ => Err(SettingsError(format!("{named} must be on or off, not {v}"))),
    }
}

fn source(v: &Value, named: &str) -> Result<&'static str, SettingsError> {
    match v.as_str().map(str::trim) {
        Some("expiration_date") => return Ok("expiration_date"),
        Some("renewal_date") => return Ok("renewal_date"),
        _ => {}
    }
    // renewalDateSync: true means Openprovider's renewal date is the expiry.
    match flag(v, named) {
        Ok(true) => Ok("renewal_date"),
        Ok(false) => Ok("expiration_date"),
        Err(_) => Err(SettingsError(format!(
            "{named} must be \"expiration_date\" or \"renewal_date\", not {v}"
        ))),
    }
}

fn whole(v: &Value, named: &str, min: i64, max: i64) -> Result<i64, SettingsError> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix('-').unwrap_or(t);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                t.parse::<i64>().ok()
            } else {
                None
            }
        }
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ if max == i64::MAX => Err(SettingsError(format!(
            "{named} must be a whole number from {min} up, not {v}"
        ))),
        _ => Err(SettingsError(format!(
            "{named} must be from {min} to {max} (a whole number), not {v}"
        ))),
    }
}

fn statuses(v: &Value, named: &str) -> Result<Vec<String>, SettingsError> {
    let items: Vec<String> = match v {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(|s| s.trim().to_string()))
            .collect::<Option<_>>()
            .ok_or_else(|| SettingsError(format!("{named} must list WHMCS statuses, not {v}")))?,
        Value::String(s) => s
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => {
            return Err(SettingsError(format!(
                "{named} must list WHMCS statuses separated by commas, not {v}"
            )))
        }
    };
    for item in &items {
        if WhmcsStatus::parse(item).is_none() {
            return Err(SettingsError(format!(
                "{named}: {item:?} is not a WHMCS status (expected one of {})",
                WhmcsStatus::ALL_NAMES
            )));
        }
    }
    Ok(items)
}

/// The API's address and the credentials.
fn api_settings(
    api: Option<&Map<String, Value>>,
    module: Option<&Map<String, Value>>,
    shown: &mut Vec<Shown>,
) -> Result<(String, String, String), SettingsError> {
    let text = |key: &str| {
        api.and_then(|a| a.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let module_text = |key: &str| {
        module
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let test_mode = api
        .and_then(|a| a.get("test_mode"))
        .is_some_and(|v| flag(v, "test_mode").unwrap_or(false));
    // Plain http is allowed for exactly one address: the module's own test environment
    // (`restapi_url_sandbox`, shipped as http) while test mode is on.
    let mut test_address = false;
    let (url, source) = if let Some(url) = text("base_url").filter(|u| !u.trim().is_empty()) {
        (
            url,
            text("base_url_source").unwrap_or_else(|| "file".into()),
        )
    } else if test_mode && module.is_some() {
        test_address = true;
        let url = module_text("restapi_url_sandbox").ok_or_else(|| {
            SettingsError(
                "test mode is on in the Openprovider registrar module, but \
                 advanced-module-configurations.php names no restapi_url_sandbox"
                    .into(),
            )
        })?;
        (
            url,
            "Openprovider module (restapi_url_sandbox, test mode)".into(),
        )
    } else if let Some(url) = module_text("api_url") {
        (url, "Openprovider module (api_url)".into())
    } else {
        (DEFAULT_API_URL.to_string(), "default".into())
    };
    let url = api_base(url.trim(), test_address)?;
    shown.push(Shown {
        key: "openprovider.base_url".into(),
        value: url.clone(),
        source,
        meaning: "Openprovider's API".into(),
    });
    let username = text("username").unwrap_or_default();
    let password = text("password").unwrap_or_default();
    if username.trim().is_empty() || password.is_empty() {
        return Err(SettingsError(if module.is_some() {
            "the Openprovider registrar module has no Username or Password: set them under \
             Setup > Products/Services > Domain Registrars > Openprovider"
                .into()
        } else {
            "the Openprovider username or password is not set: set openprovider.username and \
             openprovider.password in opsync.toml, or OPSYNC_OP_USERNAME and OPSYNC_OP_PASSWORD"
                .into()
        }));
    }
    Ok((url, username, password))
}

/// The API's base URL as calls are made on it: `…/v1beta`, whether `url` names the
/// version or only the host. Plain http only to a sandbox on this machine (127.x), or
/// when `test_address` (the module's own test environment, in test mode).
pub fn api_base(url: &str, test_address: bool) -> Result<String, SettingsError> {
    let local = url
        .strip_prefix("http://127.")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    let allowed =
        url.starts_with("https://") || local || (test_address && url.starts_with("http://"));
    if !allowed {
        return Err(SettingsError(format!(
            "openprovider.base_url {url} must use https (plain http only to 127.0.0.1, for the \
             sandbox, or to the Openprovider module's restapi_url_sandbox in test mode)"
        )));
    }
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    if rest.contains(['?', '#']) {
        return Err(SettingsError(format!(
            "openprovider.base_url: the base URL {url:?} must not hold a query or fragment"
        )));
    }
    let host_end = rest.find('/').unwrap_or(rest.len());
    if host_end == 0 || rest[..host_end].contains(char::is_whitespace) {
        return Err(SettingsError(format!(
            "openprovider.base_url: the base URL {url:?} is not a URL"
        )));
    }
    let path = rest[host_end..].trim_end_matches('/');
    let base = url.trim_end_matches('/');
    match path {
        "" => Ok(format!("{base}/v1beta")),
        p if p.ends_with("/v1beta") => Ok(base.to_string()),
        p => Err(SettingsError(format!(
            "openprovider.base_url: the base URL {url:?} ends in {p:?}; give Openprovider's API as \
             https://api.openprovider.eu or https://api.openprovider.eu/v1beta"
        ))),
    }
}

/// The settings verb: the raw settings and options in, every setting as read out (or the
/// one-line error), for `opsync check` and the addon page.
pub fn shown_json(input: &[u8]) -> Result<Vec<u8>, SettingsError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct In {
        settings: Value,
        #[serde(default)]
        options: Options,
    }
    let input: In =
        serde_json::from_slice(input).map_err(|e| SettingsError(format!("settings input: {e}")))?;
    let settings = read(&input.settings, &input.options)?;
    // The brake's line names where each host's admin changes it.
    let host = if input.settings.get("addon").is_some() {
        "whmcs"
    } else {
        "opsync"
    };
    #[derive(Serialize)]
    struct Out<'a> {
        policy: &'a Policy,
        batch: Option<u64>,
        send_empty: bool,
        repeat_still_open_hours: u32,
        api_url: &'a str,
        run_from_cron: bool,
        cron_interval_hours: u64,
        min_age_hours: u64,
        brake: String,
        shown: &'a [Shown],
    }
    let out = Out {
        policy: &settings.policy,
        batch: settings.batch,
        send_empty: settings.send_empty,
        repeat_still_open_hours: settings.repeat_still_open_hours,
        api_url: &settings.api_url,
        run_from_cron: settings.run_from_cron,
        cron_interval_hours: settings.cron_interval_hours,
        min_age_hours: settings.min_age_hours,
        brake: super::outcome::brake_line(&settings, host),
        shown: &settings.shown,
    };
    Ok(serde_json::to_vec_pretty(&out).unwrap_or_default())
}
