//! The request: snapshots of both sides, read from JSON.
//!
//! Leniency lives here and only here, exactly where the contract allows it: ids as
//! integers or numeric strings, flags as PHP's PDO hands them, dates in every form either
//! side writes. Everything else is strict, and a problem that makes the whole request
//! unusable is a [`RequestError`] naming the JSON path. Problems inside one row that the
//! engine can judge (an unknown status, a bad flag) are kept on the row as `defects` and
//! answered with a notice.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use crate::columns::WHMCS_COLUMNS;
use crate::contract::LookupKind;
use crate::dates::{self, OpDate};
use crate::name::normalize;
use crate::pairing::Map;
use crate::policy::Policy;
use crate::status::WhmcsStatus;
use crate::wire::{Arr, Obj, Scalar};

/// A request that cannot be answered: `path: problem`, e.g. `whmcs[3].id: expected an integer`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct RequestError {
    pub path: String,
    pub problem: String,
}

impl RequestError {
    /// The error, always one line: a control character the input put into it (a key
    /// holding a line break, quoted back by the JSON reader) is written out as `\u{a}`.
    pub fn new(path: impl Into<String>, problem: impl Into<String>) -> Self {
        RequestError {
            path: one_line(path.into()),
            problem: one_line(problem.into()),
        }
    }
}

fn one_line(text: String) -> String {
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The largest id accepted: the largest integer JSON carries exactly in every language.
pub(crate) const MAX_ID: u64 = (1 << 53) - 1;

/// A request as the engine reads it. Strings borrow from the request's bytes.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot<'a> {
    pub(crate) policy: Policy,
    pub(crate) whmcs: Vec<WhmcsRow<'a>>,
    pub(crate) openprovider: OpenproviderSnapshot,
    pub(crate) lookup_errors: Vec<LookupError>,
    /// v1.4: the rows filed under another registrar; `None` when the request has none
    /// (a v1.3 request: no `openprovider_only[]` in the answer).
    pub(crate) whmcs_other: Option<Vec<OtherRow>>,
    /// v1.4: rows an admin confirmed as transferred away.
    pub(crate) confirmed_transferred_away: Vec<u64>,
}

/// v1.4: a `tbldomains` row under another registrar (its four columns).
#[derive(Debug, Clone)]
pub(crate) struct OtherRow {
    pub(crate) id: u64,
    /// Normalised; `None` for a name no domain can have (such a row matches nothing).
    pub(crate) name: Option<String>,
    pub(crate) registrar: String,
    /// `None` for a status that is not one of WHMCS's ten.
    pub(crate) status: Option<WhmcsStatus>,
}

/// One `tbldomains` row, as far as the sync cares.
#[derive(Debug, Clone)]
pub(crate) struct WhmcsRow<'a> {
    pub(crate) id: u64,
    /// The name exactly as WHMCS holds it (reported back as is).
    pub(crate) domain: Cow<'a, str>,
    /// `None` when the row's status is not one of WHMCS's ten (see `defects`).
    pub(crate) status: Option<WhmcsStatus>,
    /// `None` when unknown: absent, null, `""`, `0000-00-00` or unparseable.
    pub(crate) expirydate: Option<chrono::NaiveDate>,
    pub(crate) nextduedate: Option<chrono::NaiveDate>,
    pub(crate) nextinvoicedate: Option<chrono::NaiveDate>,
    /// `None` when absent or null: the customer's wish is not known, so nothing is pushed.
    pub(crate) donotrenew: Option<bool>,
    pub(crate) idprotection: Option<bool>,
    /// Why this row cannot be judged (answered with `invalid_record`); empty when fine.
    pub(crate) defects: Vec<String>,
    /// The columns after `id` and `domain` in [`WHMCS_COLUMNS`] order, exactly as the
    /// request held them (`None`: not carried): the guard of the row's update.
    pub(crate) read: [Option<Scalar<'a>>; READ_AS_SENT],
}

/// How many of [`WHMCS_COLUMNS`] follow `id` and `domain`.
pub(crate) const READ_AS_SENT: usize = WHMCS_COLUMNS.len() - 2;

#[derive(Debug, Clone)]
pub(crate) struct OpenproviderSnapshot {
    /// True when `domains` holds every domain of the account.
    pub(crate) complete: bool,
    pub(crate) domains: Vec<OpDomain>,
}

/// One Openprovider domain object, as far as the sync cares.
#[derive(Debug, Clone)]
pub(crate) struct OpDomain {
    pub(crate) id: u64,
    /// `domain.name + "." + domain.extension`, as Openprovider wrote them.
    pub(crate) full_name: String,
    /// `None` when the field is absent.
    pub(crate) status: Option<String>,
    pub(crate) expiration_date: OpDate,
    pub(crate) renewal_date: OpDate,
    pub(crate) autorenew: Option<String>,
    pub(crate) is_private_whois_enabled: Option<bool>,
    /// Absent or null means allowed.
    pub(crate) is_private_whois_allowed: bool,
    /// A record Openprovider keeps for a deleted domain (v1.1): treated as DEL.
    pub(crate) is_deleted: bool,
}

impl OpDomain {
    /// The status the rules read: DEL for a deleted record, whatever its `status` says.
    pub(crate) fn effective_status(&self) -> Option<&str> {
        if self.is_deleted {
            Some("DEL")
        } else {
            self.status.as_deref()
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LookupError {
    pub(crate) domain: String,
    pub(crate) kind: LookupKind,
    pub(crate) message: String,
}

/// The request as it arrives; every field accepts any JSON, judged below.
#[derive(Deserialize)]
struct RawRequest<'a> {
    policy: Option<Value>,
    #[serde(borrow)]
    whmcs: Option<Arr<Obj<RawRow<'a>>>>,
    #[serde(borrow)]
    openprovider: Option<Obj<RawOpenprovider<'a>>>,
    #[serde(borrow)]
    lookup_errors: Option<Arr<Obj<RawLookup<'a>>>>,
    #[serde(borrow)]
    whmcs_other: Option<Arr<Obj<RawOther<'a>>>>,
    #[serde(borrow)]
    confirmed_transferred_away: Option<Arr<Scalar<'a>>>,
}

#[derive(Deserialize)]
struct RawOther<'a> {
    #[serde(borrow)]
    id: Option<Scalar<'a>>,
    #[serde(borrow)]
    domain: Option<Scalar<'a>>,
    #[serde(borrow)]
    registrar: Option<Scalar<'a>>,
    #[serde(borrow)]
    status: Option<Scalar<'a>>,
}

#[derive(Deserialize)]
struct RawRow<'a> {
    #[serde(borrow)]
    id: Option<Scalar<'a>>,
    #[serde(borrow)]
    domain: Option<Scalar<'a>>,
    // The columns an update is guarded by: `null` (SQL NULL) must stay apart from absent
    // (not read), which a plain `Option` would merge.
    #[serde(borrow, default, deserialize_with = "present")]
    status: Option<Scalar<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    expirydate: Option<Scalar<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    nextduedate: Option<Scalar<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    nextinvoicedate: Option<Scalar<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    donotrenew: Option<Scalar<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    idprotection: Option<Scalar<'a>>,
}

/// A field that is present, `null` included.
fn present<'de: 'a, 'a, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Scalar<'a>>, D::Error> {
    Scalar::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct RawOpenprovider<'a> {
    complete: Option<Scalar<'a>>,
    #[serde(borrow)]
    domains: Option<Arr<Obj<RawDomain<'a>>>>,
}

#[derive(Deserialize)]
struct RawDomain<'a> {
    #[serde(borrow)]
    id: Option<Scalar<'a>>,
    #[serde(borrow)]
    domain: Option<Obj<RawName<'a>>>,
    #[serde(borrow)]
    status: Option<Scalar<'a>>,
    #[serde(borrow)]
    expiration_date: Option<Scalar<'a>>,
    #[serde(borrow)]
    renewal_date: Option<Scalar<'a>>,
    #[serde(borrow)]
    autorenew: Option<Scalar<'a>>,
    #[serde(borrow)]
    is_private_whois_enabled: Option<Scalar<'a>>,
    #[serde(borrow)]
    is_private_whois_allowed: Option<Scalar<'a>>,
    #[serde(borrow)]
    is_deleted: Option<Scalar<'a>>,
}

#[derive(Deserialize)]
struct RawName<'a> {
    #[serde(borrow)]
    name: Option<Scalar<'a>>,
    #[serde(borrow)]
    extension: Option<Scalar<'a>>,
}

#[derive(Deserialize)]
struct RawLookup<'a> {
    #[serde(borrow)]
    domain: Option<Scalar<'a>>,
    #[serde(borrow)]
    kind: Option<Scalar<'a>>,
    #[serde(borrow)]
    message: Option<Scalar<'a>>,
}

impl<'a> Snapshot<'a> {
    /// Reads a request from JSON bytes.
    pub(crate) fn from_json(bytes: &'a [u8]) -> Result<Snapshot<'a>, RequestError> {
        let raw: Obj<RawRequest> = serde_json::from_slice(bytes)
            .map_err(|e| RequestError::new("request", format!("not valid JSON ({e})")))?;
        let top = match raw {
            Obj::Is(top) => top,
            Obj::Not(kind) => return Err(RequestError::new("request", expected_object(kind))),
        };

        let policy = match &top.policy {
            None => Policy::default(),
            Some(v) => Policy::from_value(v, "policy")?,
        };

        let rows = array(top.whmcs, "whmcs")?;
        let mut whmcs = Vec::with_capacity(rows.len());
        let mut seen_ids = Map::with_capacity_and_hasher(rows.len(), Default::default());
        for (index, row) in rows.into_iter().enumerate() {
            let at = Loc {
                list: "whmcs",
                index,
            };
            let row = WhmcsRow::from_raw(row, at)?;
            if let Some(first) = seen_ids.insert(row.id, index) {
                return Err(RequestError::new(
                    at.field("id"),
                    format!("id {} appears twice (also at whmcs[{first}])", row.id),
                ));
            }
            whmcs.push(row);
        }

        let op = match top.openprovider {
            None => return Err(RequestError::new("openprovider", "missing")),
            Some(Obj::Not(kind)) => {
                return Err(RequestError::new("openprovider", expected_object(kind)))
            }
            Some(Obj::Is(op)) => op,
        };
        let complete = match op.complete {
            None => false,
            Some(Scalar::Bool(b)) => b,
            Some(_) => {
                return Err(RequestError::new(
                    "openprovider.complete",
                    "expected true or false",
                ))
            }
        };
        let list = array(op.domains, "openprovider.domains")?;
        let mut domains = Vec::with_capacity(list.len());
        for (index, d) in list.into_iter().enumerate() {
            let at = Loc {
                list: "openprovider.domains",
                index,
            };
            domains.push(OpDomain::from_raw(d, at)?);
        }

        let mut lookup_errors = Vec::new();
        if top.lookup_errors.is_some() {
            for (index, e) in array(top.lookup_errors, "lookup_errors")?
                .into_iter()
                .enumerate()
            {
                let at = Loc {
                    list: "lookup_errors",
                    index,
                };
                lookup_errors.push(LookupError::from_raw(e, at)?);
            }
        }

        let whmcs_other = match top.whmcs_other {
            None => None,
            Some(list) => {
                let list = array(Some(list), "whmcs_other")?;
                let mut other = Vec::with_capacity(list.len());
                let mut other_ids: Map<u64, usize> =
                    Map::with_capacity_and_hasher(list.len(), Default::default());
                for (index, row) in list.into_iter().enumerate() {
                    let at = Loc {
                        list: "whmcs_other",
                        index,
                    };
                    let row = OtherRow::from_raw(row, at)?;
                    if let Some(first) = seen_ids.get(&row.id) {
                        return Err(RequestError::new(
                            at.field("id"),
                            format!("id {} is also whmcs[{first}]", row.id),
                        ));
                    }
                    if let Some(first) = other_ids.insert(row.id, index) {
                        return Err(RequestError::new(
                            at.field("id"),
                            format!("id {} appears twice (also at whmcs_other[{first}])", row.id),
                        ));
                    }
                    other.push(row);
                }
                Some(other)
            }
        };

        let mut confirmed_transferred_away = Vec::new();
        if top.confirmed_transferred_away.is_some() {
            for (index, id) in array(top.confirmed_transferred_away, "confirmed_transferred_away")?
                .into_iter()
                .enumerate()
            {
                let id = id_field(Some(&id)).map_err(|problem| {
                    RequestError::new(format!("confirmed_transferred_away[{index}]"), problem)
                })?;
                confirmed_transferred_away.push(id);
            }
        }

        Ok(Snapshot {
            policy,
            whmcs,
            openprovider: OpenproviderSnapshot { complete, domains },
            lookup_errors,
            whmcs_other,
            confirmed_transferred_away,
        })
    }
}

/// Where an element sits (`whmcs[3]`); its path is only spelt out for an error.
#[derive(Clone, Copy)]
struct Loc<'a> {
    list: &'a str,
    index: usize,
}

impl<'a> Loc<'a> {
    fn path(self) -> String {
        format!("{}[{}]", self.list, self.index)
    }

    fn field(self, name: &str) -> String {
        format!("{}[{}].{name}", self.list, self.index)
    }

    /// Turns a field's problem into an error at that field's path.
    fn at<'n>(self, name: &'n str) -> impl FnOnce(String) -> RequestError + use<'a, 'n> {
        move |problem| RequestError::new(self.field(name), problem)
    }

    fn object<T>(self, value: Obj<T>) -> Result<T, RequestError> {
        match value {
            Obj::Is(v) => Ok(v),
            Obj::Not(kind) => Err(RequestError::new(self.path(), expected_object(kind))),
        }
    }
}

impl<'a> WhmcsRow<'a> {
    fn from_raw(raw: Obj<RawRow<'a>>, at: Loc) -> Result<WhmcsRow<'a>, RequestError> {
        let row = at.object(raw)?;
        let id = id_field(row.id.as_ref()).map_err(at.at("id"))?;
        // Any string: one that is no usable name is this row's `invalid_record` (v1.1),
        // never the whole call's failure.
        let domain = match row.domain {
            Some(Scalar::Str(s)) => s,
            None => return Err(RequestError::new(at.field("domain"), "missing")),
            Some(other) => {
                return Err(RequestError::new(
                    at.field("domain"),
                    format!("expected a string, found {}", other.kind()),
                ))
            }
        };
        let mut defects = Vec::new();

        let status = match &row.status {
            Some(Scalar::Str(s)) => match WhmcsStatus::parse(s) {
                Some(st) => Some(st),
                None => {
                    defects.push(format!("status {s:?} is not a WHMCS domain status"));
                    None
                }
            },
            None | Some(Scalar::Null) => {
                defects.push("the row has no status".to_string());
                None
            }
            Some(other) => {
                defects.push(format!("status {other} is not a WHMCS domain status"));
                None
            }
        };

        let donotrenew = flag(row.donotrenew.as_ref(), "donotrenew", &mut defects);
        let idprotection = flag(row.idprotection.as_ref(), "idprotection", &mut defects);

        Ok(WhmcsRow {
            id,
            domain,
            status,
            expirydate: dates::whmcs_date(row.expirydate.as_ref()),
            nextduedate: dates::whmcs_date(row.nextduedate.as_ref()),
            nextinvoicedate: dates::whmcs_date(row.nextinvoicedate.as_ref()),
            donotrenew,
            idprotection,
            defects,
            read: [
                row.status,
                row.expirydate,
                row.nextduedate,
                row.nextinvoicedate,
                row.donotrenew,
                row.idprotection,
            ],
        })
    }
}

impl OpDomain {
    fn from_raw(raw: Obj<RawDomain>, at: Loc) -> Result<OpDomain, RequestError> {
        let d = at.object(raw)?;
        let id = id_field(d.id.as_ref()).map_err(at.at("id"))?;
        let name_obj = match d.domain {
            Some(Obj::Is(o)) => o,
            Some(Obj::Not(kind)) => {
                return Err(RequestError::new(at.field("domain"), expected_object(kind)))
            }
            None => return Err(RequestError::new(at.field("domain"), "missing")),
        };
        let name = name_part(name_obj.name.as_ref()).map_err(at.at("domain.name"))?;
        let extension =
            name_part(name_obj.extension.as_ref()).map_err(at.at("domain.extension"))?;

        let status = optional_string(d.status.as_ref()).map_err(at.at("status"))?;
        let autorenew = optional_string(d.autorenew.as_ref()).map_err(at.at("autorenew"))?;
        let is_private_whois_enabled = optional_bool(d.is_private_whois_enabled.as_ref())
            .map_err(at.at("is_private_whois_enabled"))?;
        let is_private_whois_allowed = optional_bool(d.is_private_whois_allowed.as_ref())
            .map_err(at.at("is_private_whois_allowed"))?
            .unwrap_or(true);
        let is_deleted = optional_bool(d.is_deleted.as_ref())
            .map_err(at.at("is_deleted"))?
            .unwrap_or(false);

        let mut full_name = String::with_capacity(name.len() + extension.len() + 1);
        full_name.push_str(name);
        full_name.push('.');
        full_name.push_str(extension);
        Ok(OpDomain {
            id,
            full_name,
            status: status.map(str::to_string),
            expiration_date: dates::op_date(d.expiration_date.as_ref()),
            renewal_date: dates::op_date(d.renewal_date.as_ref()),
            autorenew: autorenew.map(str::to_string),
            is_private_whois_enabled,
            is_private_whois_allowed,
            is_deleted,
        })
    }
}

impl OtherRow {
    fn from_raw(raw: Obj<RawOther>, at: Loc) -> Result<OtherRow, RequestError> {
        let row = at.object(raw)?;
        let id = id_field(row.id.as_ref()).map_err(at.at("id"))?;
        // Any string: a name no domain can have only matches nothing.
        let name = match row.domain {
            Some(Scalar::Str(s)) => normalize(&s),
            None => return Err(RequestError::new(at.field("domain"), "missing")),
            Some(other) => {
                return Err(RequestError::new(
                    at.field("domain"),
                    format!("expected a string, found {}", other.kind()),
                ))
            }
        };
        let registrar = optional_string(row.registrar.as_ref())
            .map_err(at.at("registrar"))?
            .unwrap_or_default()
            .to_string();
        let status = optional_string(row.status.as_ref())
            .map_err(at.at("status"))?
            .and_then(WhmcsStatus::parse);
        Ok(OtherRow {
            id,
            name,
            registrar,
            status,
        })
    }
}

impl LookupError {
    fn from_raw(raw: Obj<RawLookup>, at: Loc) -> Result<LookupError, RequestError> {
        let e = at.object(raw)?;
        let domain = domain_field(e.domain)
            .map_err(at.at("domain"))?
            .into_owned();
        let kind = match e.kind.as_ref().and_then(Scalar::as_str) {
            Some("not_found") => LookupKind::NotFound,
            Some("error") => LookupKind::Error,
            _ => {
                return Err(RequestError::new(
                    at.field("kind"),
                    "expected \"not_found\" or \"error\"",
                ))
            }
        };
        let message = optional_string(e.message.as_ref())
            .map_err(at.at("message"))?
            .unwrap_or_default()
            .to_string();
        Ok(LookupError {
            domain,
            kind,
            message,
        })
    }
}

pub(crate) fn expected_object(kind: &str) -> String {
    format!("expected an object, found {kind}")
}

fn array<T>(value: Option<Arr<T>>, path: &str) -> Result<Vec<T>, RequestError> {
    match value {
        Some(Arr::Is(list)) => Ok(list),
        Some(Arr::Not(kind)) => Err(RequestError::new(
            path,
            format!("expected an array, found {kind}"),
        )),
        None => Err(RequestError::new(path, "missing")),
    }
}

/// An id: a positive integer, or a string of digits (PDO hands integers as strings).
fn id_field(value: Option<&Scalar>) -> Result<u64, String> {
    let id = match value {
        Some(Scalar::Number(n)) => n.as_u64(),
        Some(Scalar::Str(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<u64>().ok()
        }
        None => return Err("missing".to_string()),
        _ => None,
    };
    match id {
        Some(id) => id_in_range(id),
        None => Err("expected an integer".to_string()),
    }
}

/// An id the contract takes: from 1 to [`MAX_ID`].
pub(crate) fn id_in_range(id: u64) -> Result<u64, String> {
    if (1..=MAX_ID).contains(&id) {
        Ok(id)
    } else {
        Err(format!("expected an integer from 1 to {MAX_ID}"))
    }
}

/// Whether the engine can take one Openprovider record, as a request would carry it at
/// `openprovider.domains[index]`: the error the whole request would fail with, if not.
pub(crate) fn check_record(text: &str, index: usize) -> Result<(), RequestError> {
    let at = Loc {
        list: "openprovider.domains",
        index,
    };
    let raw: Obj<RawDomain> = serde_json::from_str(text)
        .map_err(|e| RequestError::new(at.path(), format!("not valid JSON ({e})")))?;
    OpDomain::from_raw(raw, at).map(|_| ())
}

fn domain_field(value: Option<Scalar<'_>>) -> Result<Cow<'_, str>, String> {
    match value {
        Some(Scalar::Str(s)) if !s.trim().is_empty() => Ok(s),
        None => Err("missing".to_string()),
        _ => Err("expected a domain name".to_string()),
    }
}

fn name_part<'v>(value: Option<&'v Scalar>) -> Result<&'v str, String> {
    match value {
        Some(Scalar::Str(s)) if !s.trim().is_empty() => Ok(s),
        None => Err("missing".to_string()),
        _ => Err("expected a non-empty string".to_string()),
    }
}

fn optional_string<'v>(value: Option<&'v Scalar>) -> Result<Option<&'v str>, String> {
    match value {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Str(s)) => Ok(Some(s)),
        Some(other) => Err(format!("expected a string, found {}", other.kind())),
    }
}

fn optional_bool(value: Option<&Scalar>) -> Result<Option<bool>, String> {
    match value {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!("expected true or false, found {}", other.kind())),
    }
}

/// A WHMCS tinyint flag as any host hands it: true/false, 0/1, "0"/"1", "" (false).
/// Absent or null: unknown. Anything else is a defect of the row.
fn flag(value: Option<&Scalar>, field: &str, defects: &mut Vec<String>) -> Option<bool> {
    match value {
        None | Some(Scalar::Null) => None,
        Some(Scalar::Bool(b)) => Some(*b),
        Some(Scalar::Number(n)) if n.as_u64() == Some(0) => Some(false),
        Some(Scalar::Number(n)) if n.as_u64() == Some(1) => Some(true),
        Some(Scalar::Str(s)) if s.is_empty() || s == "0" => Some(false),
        Some(Scalar::Str(s)) if s == "1" => Some(true),
        Some(other) => {
            defects.push(format!("{field} {other} is not a flag (expected 0 or 1)"));
            None
        }
    }
}
