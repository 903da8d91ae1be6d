//! The request: snapshots of both sides, read from JSON.
//!
//! Leniency lives here and only here, exactly where the contract allows it: ids as
//! integers or numeric strings, flags as PHP's PDO hands them, dates in every form either
//! side writes. Everything else is strict, and a problem that makes the whole request
//! unusable is a [`RequestError`] naming the JSON path. Problems inside one row that the
//! engine can judge (an unknown status, a bad flag) are kept on the row as `defects` and
//! answered with a notice.

use serde_json::{Map, Value};

use crate::dates::{self, OpDate};
use crate::policy::Policy;
use crate::status::WhmcsStatus;

/// A request that cannot be answered: `path: problem`, e.g. `whmcs[3].id: expected an integer`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct RequestError {
    pub path: String,
    pub problem: String,
}

impl RequestError {
    pub fn new(path: impl Into<String>, problem: impl Into<String>) -> Self {
        RequestError {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

/// The largest id accepted: the largest integer JSON carries exactly in every language.
pub const MAX_ID: u64 = (1 << 53) - 1;

#[derive(Debug, Clone)]
pub struct Request {
    pub policy: Policy,
    pub whmcs: Vec<WhmcsRow>,
    pub openprovider: OpenproviderSnapshot,
    pub lookup_errors: Vec<LookupError>,
}

/// One `tbldomains` row, as far as the sync cares.
#[derive(Debug, Clone)]
pub struct WhmcsRow {
    pub id: u64,
    /// The name exactly as WHMCS holds it (reported back as is).
    pub domain: String,
    /// `None` when the row's status is not one of WHMCS's ten (see `defects`).
    pub status: Option<WhmcsStatus>,
    /// `None` when unknown: absent, null, `""`, `0000-00-00` or unparseable.
    pub expirydate: Option<chrono::NaiveDate>,
    pub nextduedate: Option<chrono::NaiveDate>,
    pub nextinvoicedate: Option<chrono::NaiveDate>,
    /// `None` when absent or null: the customer's wish is not known, so nothing is pushed.
    pub donotrenew: Option<bool>,
    pub idprotection: Option<bool>,
    /// Why this row cannot be judged (answered with `invalid_record`); empty when fine.
    pub defects: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct OpenproviderSnapshot {
    /// True when `domains` holds every domain of the account.
    pub complete: bool,
    pub domains: Vec<OpDomain>,
}

/// One Openprovider domain object, as far as the sync cares.
#[derive(Debug, Clone)]
pub struct OpDomain {
    pub id: u64,
    /// `domain.name + "." + domain.extension`, as Openprovider wrote them.
    pub full_name: String,
    /// `None` when the field is absent.
    pub status: Option<String>,
    pub expiration_date: OpDate,
    pub renewal_date: OpDate,
    pub autorenew: Option<String>,
    pub is_private_whois_enabled: Option<bool>,
    /// Absent or null means allowed.
    pub is_private_whois_allowed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LookupKind {
    /// The API said the domain is not in the account.
    NotFound,
    /// The look-up itself failed.
    Error,
}

#[derive(Debug, Clone)]
pub struct LookupError {
    pub domain: String,
    pub kind: LookupKind,
    pub message: String,
}

impl Request {
    /// Reads a request from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Request, RequestError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| RequestError::new("request", format!("not valid JSON ({e})")))?;
        Request::from_value(&value)
    }

    /// Reads a request from an already parsed JSON value.
    pub fn from_value(value: &Value) -> Result<Request, RequestError> {
        let top = object(value, "request")?;
        let policy = match top.get("policy") {
            None | Some(Value::Null) => Policy::default(),
            Some(v) => Policy::from_value(v, "policy")?,
        };

        let rows = required_array(top, "whmcs", "whmcs")?;
        let mut whmcs = Vec::with_capacity(rows.len());
        let mut seen_ids = std::collections::HashMap::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let path = format!("whmcs[{i}]");
            let row = WhmcsRow::from_value(row, &path)?;
            if let Some(first) = seen_ids.insert(row.id, i) {
                return Err(RequestError::new(
                    format!("{path}.id"),
                    format!("id {} appears twice (also at whmcs[{first}])", row.id),
                ));
            }
            whmcs.push(row);
        }

        let op_value = top
            .get("openprovider")
            .ok_or_else(|| RequestError::new("openprovider", "missing"))?;
        let op = object(op_value, "openprovider")?;
        let complete = match op.get("complete") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(RequestError::new(
                    "openprovider.complete",
                    "expected true or false",
                ))
            }
        };
        let list = required_array(op, "domains", "openprovider.domains")?;
        let mut domains = Vec::with_capacity(list.len());
        for (i, d) in list.iter().enumerate() {
            domains.push(OpDomain::from_value(
                d,
                &format!("openprovider.domains[{i}]"),
            )?);
        }

        let mut lookup_errors = Vec::new();
        match top.get("lookup_errors") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for (i, e) in list.iter().enumerate() {
                    lookup_errors.push(LookupError::from_value(e, &format!("lookup_errors[{i}]"))?);
                }
            }
            Some(_) => return Err(RequestError::new("lookup_errors", "expected an array")),
        }

        Ok(Request {
            policy,
            whmcs,
            openprovider: OpenproviderSnapshot { complete, domains },
            lookup_errors,
        })
    }
}

impl WhmcsRow {
    fn from_value(value: &Value, path: &str) -> Result<WhmcsRow, RequestError> {
        let row = object(value, path)?;
        let id = id_field(row.get("id"), &format!("{path}.id"))?;
        let domain = domain_field(row.get("domain"), &format!("{path}.domain"))?;
        let mut defects = Vec::new();

        let status = match row.get("status") {
            Some(Value::String(s)) => match WhmcsStatus::parse(s) {
                Some(st) => Some(st),
                None => {
                    defects.push(format!("status {s:?} is not a WHMCS domain status"));
                    None
                }
            },
            None | Some(Value::Null) => {
                defects.push("the row has no status".to_string());
                None
            }
            Some(other) => {
                defects.push(format!("status {other} is not a WHMCS domain status"));
                None
            }
        };

        let donotrenew = flag(row.get("donotrenew"), "donotrenew", &mut defects);
        let idprotection = flag(row.get("idprotection"), "idprotection", &mut defects);

        Ok(WhmcsRow {
            id,
            domain,
            status,
            expirydate: dates::whmcs_date(row.get("expirydate")),
            nextduedate: dates::whmcs_date(row.get("nextduedate")),
            nextinvoicedate: dates::whmcs_date(row.get("nextinvoicedate")),
            donotrenew,
            idprotection,
            defects,
        })
    }
}

impl OpDomain {
    fn from_value(value: &Value, path: &str) -> Result<OpDomain, RequestError> {
        let d = object(value, path)?;
        let id = id_field(d.get("id"), &format!("{path}.id"))?;
        let name_path = format!("{path}.domain");
        let name_obj = object(
            d.get("domain")
                .ok_or_else(|| RequestError::new(&name_path, "missing"))?,
            &name_path,
        )?;
        let name = name_part(name_obj.get("name"), &format!("{name_path}.name"))?;
        let extension = name_part(name_obj.get("extension"), &format!("{name_path}.extension"))?;

        let status = optional_string(d.get("status"), &format!("{path}.status"))?;
        let autorenew = optional_string(d.get("autorenew"), &format!("{path}.autorenew"))?;
        let is_private_whois_enabled = optional_bool(
            d.get("is_private_whois_enabled"),
            &format!("{path}.is_private_whois_enabled"),
        )?;
        let is_private_whois_allowed = optional_bool(
            d.get("is_private_whois_allowed"),
            &format!("{path}.is_private_whois_allowed"),
        )?
        .unwrap_or(true);

        Ok(OpDomain {
            id,
            full_name: format!("{name}.{extension}"),
            status,
            expiration_date: dates::op_date(d.get("expiration_date")),
            renewal_date: dates::op_date(d.get("renewal_date")),
            autorenew,
            is_private_whois_enabled,
            is_private_whois_allowed,
        })
    }
}

impl LookupError {
    fn from_value(value: &Value, path: &str) -> Result<LookupError, RequestError> {
        let e = object(value, path)?;
        let domain = domain_field(e.get("domain"), &format!("{path}.domain"))?;
        let kind = match e.get("kind") {
            Some(Value::String(k)) if k == "not_found" => LookupKind::NotFound,
            Some(Value::String(k)) if k == "error" => LookupKind::Error,
            _ => {
                return Err(RequestError::new(
                    format!("{path}.kind"),
                    "expected \"not_found\" or \"error\"",
                ))
            }
        };
        let message =
            optional_string(e.get("message"), &format!("{path}.message"))?.unwrap_or_default();
        Ok(LookupError {
            domain,
            kind,
            message,
        })
    }
}

pub(crate) fn object<'a>(
    value: &'a Value,
    path: &str,
) -> Result<&'a Map<String, Value>, RequestError> {
    value.as_object().ok_or_else(|| {
        RequestError::new(
            path,
            format!("expected an object, found {}", kind_of(value)),
        )
    })
}

fn required_array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Vec<Value>, RequestError> {
    match obj.get(key) {
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(RequestError::new(
            path,
            format!("expected an array, found {}", kind_of(other)),
        )),
        None => Err(RequestError::new(path, "missing")),
    }
}

/// An id: a positive integer, or a string of digits (PDO hands integers as strings).
fn id_field(value: Option<&Value>, path: &str) -> Result<u64, RequestError> {
    let id = match value {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<u64>().ok()
        }
        None => return Err(RequestError::new(path, "missing")),
        _ => None,
    };
    match id {
        Some(id) if (1..=MAX_ID).contains(&id) => Ok(id),
        Some(_) => Err(RequestError::new(
            path,
            format!("expected an integer from 1 to {MAX_ID}"),
        )),
        None => Err(RequestError::new(path, "expected an integer")),
    }
}

fn domain_field(value: Option<&Value>, path: &str) -> Result<String, RequestError> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        None => Err(RequestError::new(path, "missing")),
        _ => Err(RequestError::new(path, "expected a domain name")),
    }
}

fn name_part(value: Option<&Value>, path: &str) -> Result<String, RequestError> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        None => Err(RequestError::new(path, "missing")),
        _ => Err(RequestError::new(path, "expected a non-empty string")),
    }
}

fn optional_string(value: Option<&Value>, path: &str) -> Result<Option<String>, RequestError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(RequestError::new(
            path,
            format!("expected a string, found {}", kind_of(other)),
        )),
    }
}

fn optional_bool(value: Option<&Value>, path: &str) -> Result<Option<bool>, RequestError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(RequestError::new(
            path,
            format!("expected true or false, found {}", kind_of(other)),
        )),
    }
}

/// A WHMCS tinyint flag as any host hands it: true/false, 0/1, "0"/"1", "" (false).
/// Absent or null: unknown. Anything else is a defect of the row.
fn flag(value: Option<&Value>, field: &str, defects: &mut Vec<String>) -> Option<bool> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Some(false),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Some(true),
        Some(Value::String(s)) if s.is_empty() || s == "0" => Some(false),
        Some(Value::String(s)) if s == "1" => Some(true),
        Some(other) => {
            defects.push(format!("{field} {other} is not a flag (expected 0 or 1)"));
            None
        }
    }
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
