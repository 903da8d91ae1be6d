//! The policy: which rules run and how. Every field is optional; the defaults are the
//! contract's. Unknown fields are an error here (unlike in the snapshots): a misspelt
//! policy field silently ignored would change what the sync does.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, DefaultHasher};

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::name::normalize;
use crate::snapshot::{expected_object, RequestError};
use crate::status::WhmcsStatus;

/// Which Openprovider date is the domain's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpirySource {
    ExpirationDate,
    RenewalDate,
}

impl ExpirySource {
    pub fn field(self) -> &'static str {
        match self {
            ExpirySource::ExpirationDate => "expiration_date",
            ExpirySource::RenewalDate => "renewal_date",
        }
    }
}

/// The mass-change brake (v1.1): a run in which more rows would change than both
/// `min_rows` and `percent`% of the rows (rounded down) is held whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MassChangeLimit {
    /// 0 to 100.
    pub percent: u32,
    pub min_rows: u64,
}

impl MassChangeLimit {
    /// Whether `changed` of `rows` rows is more than the limit allows.
    pub fn holds(self, changed: u64, rows: u64) -> bool {
        let share = rows.saturating_mul(u64::from(self.percent)) / 100;
        changed > self.min_rows && changed > share
    }
}

/// The largest due-date offset accepted, in days (ten years), either way.
const MAX_OFFSET_DAYS: i64 = 3650;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub sync_status: bool,
    pub sync_expiry_date: bool,
    pub expiry_source: ExpirySource,
    pub sync_due_date: bool,
    pub due_date_offset_days: i64,
    /// `None`: no guard.
    pub due_date_max_shift_days: Option<i64>,
    pub sync_auto_renew: bool,
    pub sync_whois_privacy: bool,
    pub protected_statuses: Vec<WhmcsStatus>,
    /// `None`: no brake (the contract's default; hosts turn it on).
    pub mass_change_limit: Option<MassChangeLimit>,
    /// v1.4: rows and records left out of the sync.
    pub exclude: Exclude,
    /// v1.4: per-extension fields over this policy's, longest extension first.
    pub by_extension: Vec<ExtensionPolicy>,
}

/// v1.4 `policy.exclude`: names and extensions in their normalised form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclude {
    pub domains: Vec<String>,
    pub extensions: Vec<String>,
}

impl Exclude {
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.extensions.is_empty()
    }
}

/// v1.4 `policy.by_extension.<extension>`: the per-row fields it sets, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionPolicy {
    /// Normalised (IDN labels in ASCII), without a leading dot.
    pub extension: String,
    /// The per-row fields it sets (checked when read), in the request's order.
    pub fields: serde_json::Map<String, Value>,
}

/// The policy's exclusions (v1.4), names in a set: one look-up per row, not a scan.
pub(crate) struct Exclusions<'a> {
    names: HashSet<&'a str, BuildHasherDefault<DefaultHasher>>,
    extensions: &'a [String],
}

impl<'a> Exclusions<'a> {
    pub(crate) fn new(policy: &'a Policy) -> Exclusions<'a> {
        Exclusions {
            names: policy.exclude.domains.iter().map(String::as_str).collect(),
            extensions: &policy.exclude.extensions,
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.names.contains(name) || self.extensions.iter().any(|e| has_extension(name, e))
    }
}

/// The fields a `by_extension` entry may set: the per-row ones.
pub(crate) const PER_EXTENSION_FIELDS: [&str; 8] = [
    "sync_status",
    "sync_expiry_date",
    "expiry_source",
    "sync_due_date",
    "due_date_offset_days",
    "due_date_max_shift_days",
    "sync_auto_renew",
    "sync_whois_privacy",
];

/// Whether normalised `name` ends in normalised `extension` as whole labels (`co.uk`
/// matches `shop.co.uk`, never `shopco.uk` or `co.uk` itself). A normalised name has no
/// empty label, so what precedes the dot is a label.
pub(crate) fn has_extension(name: &str, extension: &str) -> bool {
    name.strip_suffix(extension)
        .is_some_and(|rest| rest.ends_with('.'))
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            sync_status: true,
            sync_expiry_date: true,
            expiry_source: ExpirySource::ExpirationDate,
            sync_due_date: true,
            due_date_offset_days: 0,
            due_date_max_shift_days: Some(100),
            sync_auto_renew: true,
            sync_whois_privacy: true,
            protected_statuses: vec![WhmcsStatus::Fraud, WhmcsStatus::Cancelled],
            mass_change_limit: None,
            exclude: Exclude::default(),
            by_extension: Vec::new(),
        }
    }
}

impl Policy {
    pub fn is_protected(&self, status: WhmcsStatus) -> bool {
        self.protected_statuses.contains(&status)
    }

    /// Whether normalised `name` is excluded (v1.4), by name or by extension.
    pub fn is_excluded(&self, name: &str) -> bool {
        Exclusions::new(self).contains(name)
    }

    /// The policy for each `by_extension` entry, the top-level fields under the entry's,
    /// longest extension first (the order a row's name is matched in).
    pub(crate) fn per_extension(&self) -> Vec<(String, Policy)> {
        self.by_extension
            .iter()
            .map(|entry| {
                let mut policy = Policy {
                    by_extension: Vec::new(),
                    ..self.clone()
                };
                for (key, v) in &entry.fields {
                    // Checked when read: every field here is a per-row field with a good value.
                    let _ = policy.set(key, v, key);
                }
                (entry.extension.clone(), policy)
            })
            .collect()
    }

    /// Sets one per-row field from its JSON value; `at` names it in an error.
    fn set(&mut self, key: &str, v: &Value, at: &str) -> Result<(), RequestError> {
        match key {
            "sync_status" => self.sync_status = boolean(v, at)?,
            "sync_expiry_date" => self.sync_expiry_date = boolean(v, at)?,
            "sync_due_date" => self.sync_due_date = boolean(v, at)?,
            "sync_auto_renew" => self.sync_auto_renew = boolean(v, at)?,
            "sync_whois_privacy" => self.sync_whois_privacy = boolean(v, at)?,
            "expiry_source" => {
                self.expiry_source = match v.as_str() {
                    Some("expiration_date") => ExpirySource::ExpirationDate,
                    Some("renewal_date") => ExpirySource::RenewalDate,
                    _ => {
                        return Err(RequestError::new(
                            at,
                            "expected \"expiration_date\" or \"renewal_date\"",
                        ))
                    }
                }
            }
            "due_date_offset_days" => {
                self.due_date_offset_days = signed_days(v, at, MAX_OFFSET_DAYS)?;
            }
            "due_date_max_shift_days" => {
                self.due_date_max_shift_days = match v {
                    Value::Null => None,
                    v => Some(days(v, at, i64::from(i32::MAX))?),
                }
            }
            _ => return Err(RequestError::new(at, "unknown policy field")),
        }
        Ok(())
    }

    /// Reads a policy object (as in a request's `policy`); `path` prefixes error paths.
    pub fn from_value(value: &Value, path: &str) -> Result<Policy, RequestError> {
        let mut policy = Policy::default();
        let fields = value
            .as_object()
            .ok_or_else(|| RequestError::new(path, expected_object(kind_of(value))))?;
        for (key, v) in fields {
            let at = format!("{path}.{key}");
            match key.as_str() {
                "protected_statuses" => {
                    let list = v.as_array().ok_or_else(|| {
                        RequestError::new(&at, "expected an array of WHMCS statuses")
                    })?;
                    let mut statuses = Vec::with_capacity(list.len());
                    for (i, s) in list.iter().enumerate() {
                        let status = s.as_str().and_then(WhmcsStatus::parse).ok_or_else(|| {
                            RequestError::new(
                                format!("{at}[{i}]"),
                                format!("expected one of {}", WhmcsStatus::ALL_NAMES),
                            )
                        })?;
                        statuses.push(status);
                    }
                    policy.protected_statuses = statuses;
                }
                "mass_change_limit" => policy.mass_change_limit = mass_change_limit(v, &at)?,
                "exclude" => policy.exclude = exclude(v, &at)?,
                "by_extension" => policy.by_extension = by_extension(v, &at)?,
                key => policy.set(key, v, &at)?,
            }
        }
        Ok(policy)
    }
}

/// Every field, spelt out: what a host sends once it has resolved its configuration.
impl Serialize for Policy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("sync_status", &self.sync_status)?;
        map.serialize_entry("sync_expiry_date", &self.sync_expiry_date)?;
        map.serialize_entry("expiry_source", self.expiry_source.field())?;
        map.serialize_entry("sync_due_date", &self.sync_due_date)?;
        map.serialize_entry("due_date_offset_days", &self.due_date_offset_days)?;
        map.serialize_entry("due_date_max_shift_days", &self.due_date_max_shift_days)?;
        map.serialize_entry("sync_auto_renew", &self.sync_auto_renew)?;
        map.serialize_entry("sync_whois_privacy", &self.sync_whois_privacy)?;
        let protected: Vec<&str> = self.protected_statuses.iter().map(|s| s.as_str()).collect();
        map.serialize_entry("protected_statuses", &protected)?;
        #[derive(Serialize)]
        struct Limit {
            percent: u32,
            min_rows: u64,
        }
        let limit = self.mass_change_limit.map(|l| Limit {
            percent: l.percent,
            min_rows: l.min_rows,
        });
        map.serialize_entry("mass_change_limit", &limit)?;
        // v1.4's fields only when set: a v1.3 policy reads exactly as before.
        if !self.exclude.is_empty() {
            let mut exclude = serde_json::Map::new();
            exclude.insert("domains".into(), Value::from(self.exclude.domains.clone()));
            exclude.insert(
                "extensions".into(),
                Value::from(self.exclude.extensions.clone()),
            );
            map.serialize_entry("exclude", &exclude)?;
        }
        if !self.by_extension.is_empty() {
            let by: serde_json::Map<String, Value> = self
                .by_extension
                .iter()
                .map(|e| (e.extension.clone(), Value::Object(e.fields.clone())))
                .collect();
            map.serialize_entry("by_extension", &by)?;
        }
        map.end()
    }
}

/// Read with the engine's own rules ([`Policy::from_value`]): a misspelt field fails.
impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Policy, D::Error> {
        let value = Value::deserialize(d)?;
        Policy::from_value(&value, "policy").map_err(serde::de::Error::custom)
    }
}

fn boolean(v: &Value, path: &str) -> Result<bool, RequestError> {
    v.as_bool().ok_or_else(|| {
        RequestError::new(
            path,
            format!("expected true or false, found {}", kind_of(v)),
        )
    })
}

/// `null`, or `{"percent": 0..=100, "min_rows": n}` with both fields.
fn mass_change_limit(v: &Value, path: &str) -> Result<Option<MassChangeLimit>, RequestError> {
    let fields = match v {
        Value::Null => return Ok(None),
        Value::Object(fields) => fields,
        other => {
            return Err(RequestError::new(
                path,
                format!(
                    "expected null or {{\"percent\": P, \"min_rows\": M}}, found {}",
                    kind_of(other)
                ),
            ))
        }
    };
    if let Some(key) = fields.keys().find(|k| *k != "percent" && *k != "min_rows") {
        return Err(RequestError::new(
            format!("{path}.{key}"),
            "unknown field (expected percent and min_rows)",
        ));
    }
    let percent = match fields.get("percent").map(Value::as_u64) {
        Some(Some(p)) if p <= 100 => p as u32,
        Some(_) => {
            return Err(RequestError::new(
                format!("{path}.percent"),
                "expected a whole number from 0 to 100",
            ))
        }
        None => return Err(RequestError::new(format!("{path}.percent"), "missing")),
    };
    let min_rows = match fields.get("min_rows").map(Value::as_u64) {
        Some(Some(m)) => m,
        Some(None) => {
            return Err(RequestError::new(
                format!("{path}.min_rows"),
                "expected a whole number of rows, 0 or more",
            ))
        }
        None => return Err(RequestError::new(format!("{path}.min_rows"), "missing")),
    };
    Ok(Some(MassChangeLimit { percent, min_rows }))
}

/// `{"domains": [...], "extensions": [...]}`, both optional.
fn exclude(v: &Value, path: &str) -> Result<Exclude, RequestError> {
    let fields = v.as_object().ok_or_else(|| {
        RequestError::new(
            path,
            format!(
                "expected {{\"domains\": [...], \"extensions\": [...]}}, found {}",
                kind_of(v)
            ),
        )
    })?;
    let mut exclude = Exclude::default();
    for (key, list) in fields {
        let at = format!("{path}.{key}");
        let (target, extensions) = match key.as_str() {
            "domains" => (&mut exclude.domains, false),
            "extensions" => (&mut exclude.extensions, true),
            _ => {
                return Err(RequestError::new(
                    at,
                    "unknown field (expected domains and extensions)",
                ))
            }
        };
        let items = list
            .as_array()
            .ok_or_else(|| RequestError::new(&at, "expected an array of names"))?;
        for (i, item) in items.iter().enumerate() {
            let at = format!("{at}[{i}]");
            let text = item
                .as_str()
                .ok_or_else(|| RequestError::new(&at, "expected a string"))?;
            let name = if extensions {
                extension(text)
            } else {
                normalize(text)
            };
            target.push(name.ok_or_else(|| {
                RequestError::new(
                    &at,
                    format!(
                        "{text:?} is not a usable {}",
                        if extensions {
                            "extension"
                        } else {
                            "domain name"
                        }
                    ),
                )
            })?);
        }
    }
    Ok(exclude)
}

/// `{"eu": {...}, "co.uk": {...}}`: per-row fields per extension, longest extension first.
fn by_extension(v: &Value, path: &str) -> Result<Vec<ExtensionPolicy>, RequestError> {
    let entries = v.as_object().ok_or_else(|| {
        RequestError::new(
            path,
            format!("expected an object of extensions, found {}", kind_of(v)),
        )
    })?;
    let mut list: Vec<ExtensionPolicy> = Vec::with_capacity(entries.len());
    for (written, fields) in entries {
        let at = format!("{path}.{written}");
        let ext = extension(written).ok_or_else(|| {
            RequestError::new(&at, format!("{written:?} is not a usable extension"))
        })?;
        if list.iter().any(|e| e.extension == ext) {
            return Err(RequestError::new(
                &at,
                format!("the extension {ext} is given twice"),
            ));
        }
        let fields = fields.as_object().ok_or_else(|| {
            RequestError::new(
                &at,
                format!(
                    "expected an object of policy fields, found {}",
                    kind_of(fields)
                ),
            )
        })?;
        let mut check = Policy::default();
        for (key, value) in fields {
            let at = format!("{at}.{key}");
            if !PER_EXTENSION_FIELDS.contains(&key.as_str()) {
                return Err(RequestError::new(at, "not a per-extension field"));
            }
            check.set(key, value, &at)?;
        }
        list.push(ExtensionPolicy {
            extension: ext,
            fields: fields.clone(),
        });
    }
    // Longest first, so the first match is the longest; equal lengths by name.
    list.sort_by(|a, b| {
        b.extension
            .len()
            .cmp(&a.extension.len())
            .then_with(|| a.extension.cmp(&b.extension))
    });
    Ok(list)
}

/// An extension (`eu`, `.co.uk`, `Ελλάδα`) in its normalised form, without a leading dot.
fn extension(text: &str) -> Option<String> {
    let text = text.trim().trim_start_matches('.');
    if text.is_empty() {
        return None;
    }
    normalize(&format!("x.{text}")).map(|n| n["x.".len()..].to_string())
}

fn days(v: &Value, path: &str, max: i64) -> Result<i64, RequestError> {
    match v.as_i64() {
        Some(n) if (0..=max).contains(&n) => Ok(n),
        _ => Err(RequestError::new(
            path,
            format!("expected a whole number of days from 0 to {max}"),
        )),
    }
}

/// Whole days from `-max` to `max` (the due-date offset: negative puts the due date after
/// the expiry, as the Openprovider module allows).
fn signed_days(v: &Value, path: &str, max: i64) -> Result<i64, RequestError> {
    match v.as_i64() {
        Some(n) if (-max..=max).contains(&n) => Ok(n),
        _ => Err(RequestError::new(
            path,
            format!("expected a whole number of days from -{max} to {max}"),
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_policy_without_v14_fields_serialises_as_before() {
        let v13 = serde_json::to_value(Policy::default()).unwrap();
        assert!(v13.get("exclude").is_none() && v13.get("by_extension").is_none());

        for exclude in [json!({"domains": ["a.com"]}), json!({"extensions": ["eu"]})] {
            let policy = Policy::from_value(&json!({"exclude": exclude}), "policy").unwrap();
            let back = serde_json::to_value(&policy).unwrap();
            assert!(back.get("exclude").is_some(), "{exclude} is written back");
            assert_eq!(Policy::from_value(&back, "policy").unwrap(), policy);
        }
        let policy = Policy::from_value(
            &json!({"by_extension": {".EU": {"sync_status": false}}}),
            "policy",
        )
        .unwrap();
        let back = serde_json::to_value(&policy).unwrap();
        assert_eq!(back["by_extension"], json!({"eu": {"sync_status": false}}));
        assert_eq!(Policy::from_value(&back, "policy").unwrap(), policy);
    }

    #[test]
    fn an_extension_is_whole_trailing_labels() {
        assert!(has_extension("shop.co.uk", "co.uk"));
        assert!(has_extension("shop.co.uk", "uk"));
        assert!(!has_extension("shopco.uk", "co.uk"));
        assert!(!has_extension("co.uk", "co.uk"));
    }
}
