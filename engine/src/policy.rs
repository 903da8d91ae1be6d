//! The policy: which rules run and how. Every field is optional; the defaults are the
//! contract's. Unknown fields are an error here (unlike in the snapshots): a misspelt
//! policy field silently ignored would change what the sync does.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

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
        }
    }
}

impl Policy {
    pub fn is_protected(&self, status: WhmcsStatus) -> bool {
        self.protected_statuses.contains(&status)
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
                "sync_status" => policy.sync_status = boolean(v, &at)?,
                "sync_expiry_date" => policy.sync_expiry_date = boolean(v, &at)?,
                "sync_due_date" => policy.sync_due_date = boolean(v, &at)?,
                "sync_auto_renew" => policy.sync_auto_renew = boolean(v, &at)?,
                "sync_whois_privacy" => policy.sync_whois_privacy = boolean(v, &at)?,
                "expiry_source" => {
                    policy.expiry_source = match v.as_str() {
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
                    policy.due_date_offset_days = signed_days(v, &at, MAX_OFFSET_DAYS)?;
                }
                "due_date_max_shift_days" => {
                    policy.due_date_max_shift_days = match v {
                        Value::Null => None,
                        v => Some(days(v, &at, i64::from(i32::MAX))?),
                    }
                }
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
                _ => return Err(RequestError::new(at, "unknown policy field")),
            }
        }
        Ok(policy)
    }
}

/// Every field, spelt out: what a host sends once it has resolved its configuration.
impl Serialize for Policy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(10))?;
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
