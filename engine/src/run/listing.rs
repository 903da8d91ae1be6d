//! What the run reads from Openprovider: the bulk listing in pages and whether they add
//! up to one consistent listing (only a complete listing lets a row be called missing),
//! look-ups by name, and the records as the API wrote them, each checked as it arrives so
//! that one the engine cannot take is left out alone.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::contract::{LookupError, LookupKind};

/// Domains per page of the bulk listing; the most per look-up by name.
pub(crate) const PAGE_SIZE: usize = 500;
pub(crate) const NAMES_PER_LOOKUP: usize = 100;
/// Batches this small are looked up by name instead of listing the whole account.
pub(crate) const LOOKUP_BELOW: usize = 100;

/// One domain object as the API sent it: its JSON text.
pub(crate) type Record = Box<RawValue>;

/// One page as it came back.
#[derive(Debug)]
pub(crate) struct Page {
    /// The `offset` it was asked for.
    pub(crate) offset: usize,
    pub(crate) domains: Vec<Record>,
    /// The `total` the API reported with it.
    pub(crate) total: usize,
}

/// The query of one page of the listing, in id order.
pub(crate) fn page_query(offset: usize) -> Vec<(String, String)> {
    vec![
        ("limit".into(), PAGE_SIZE.to_string()),
        ("offset".into(), offset.to_string()),
        ("order_by.id".into(), "asc".into()),
    ]
}

/// The query of a look-up by names (the key repeated once per name, as Openprovider's own
/// client sends it), among the deleted domains when `deleted`.
pub(crate) fn names_query(names: &[String], deleted: bool) -> Vec<(String, String)> {
    let mut query: Vec<(String, String)> = names
        .iter()
        .map(|n| ("domain_names".to_string(), n.clone()))
        .collect();
    if deleted {
        query.push(("is_deleted".into(), "true".into()));
    }
    query.push(("limit".into(), "1000".into()));
    query
}

/// A listing answer's `results` (each record's text) and `total`.
pub(crate) fn page_of(data: &str) -> Result<(Vec<Record>, usize), String> {
    #[derive(Deserialize)]
    struct Data {
        #[serde(default)]
        results: Option<Vec<Record>>,
        total: Option<Value>,
    }
    let data: Data =
        serde_json::from_str(data).map_err(|e| format!("a listing that does not read: {e}"))?;
    let total = data
        .total
        .and_then(|t| t.as_u64())
        .ok_or_else(|| "a listing without a total".to_string())?;
    Ok((data.results.unwrap_or_default(), total as usize))
}

/// Whether `pages` (the first reporting `total`) make one consistent listing: every page
/// reports the same total, every page but the last is full and the last holds the rest,
/// no domain comes twice or without an id. The domains are kept in offset order, each id
/// once, whatever the verdict; the problems say why it is not complete.
pub(crate) fn judge(total: usize, mut pages: Vec<Page>) -> (Vec<Record>, Vec<String>) {
    pages.sort_by_key(|p| p.offset);
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut domains = Vec::with_capacity(total);
    for page in pages {
        let offset = page.offset;
        if page.total != total {
            problems.push(format!(
                "the total moved from {total} to {} while listing (page at {offset})",
                page.total
            ));
        }
        let expected = PAGE_SIZE.min(total.saturating_sub(offset));
        if page.domains.len() != expected {
            problems.push(format!(
                "the page at {offset} held {} domains instead of {expected}",
                page.domains.len()
            ));
        }
        for d in page.domains {
            let id = id_of(&d);
            if !id.is_some_and(|id| seen.insert(id)) {
                problems.push(format!(
                    "domain id {} was listed twice or has no id",
                    id.map_or("null".to_string(), |id| id.to_string())
                ));
                continue;
            }
            domains.push(d);
        }
    }
    if domains.len() != total && problems.is_empty() {
        problems.push(format!("listed {} domains of {total}", domains.len()));
    }
    (domains, problems)
}

/// A record's `id`, when it is a whole number.
pub(crate) fn id_of(record: &RawValue) -> Option<u64> {
    #[derive(Deserialize)]
    struct Id {
        id: Option<Value>,
    }
    serde_json::from_str::<Id>(record.get()).ok()?.id?.as_u64()
}

/// A record's `domain.name + "." + domain.extension`, in the form the engine pairs in.
pub(crate) fn name_of(record: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct Name {
        name: Option<Value>,
        extension: Option<Value>,
    }
    #[derive(Deserialize)]
    struct Domain {
        domain: Option<Name>,
    }
    let domain = serde_json::from_str::<Domain>(record.get()).ok()?.domain?;
    let (name, extension) = (domain.name?, domain.extension?);
    crate::lookup_name(&format!("{}.{}", name.as_str()?, extension.as_str()?))
}

/// A record marked as one of Openprovider's deleted domains (contract v1.1).
pub(crate) fn mark_deleted(record: &RawValue) -> Option<Record> {
    let mut value: Value = serde_json::from_str(record.get()).ok()?;
    value
        .as_object_mut()?
        .insert("is_deleted".into(), Value::Bool(true));
    serde_json::value::to_raw_value(&value).ok()
}

/// What the run read from Openprovider, for the decide request.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub(crate) complete: bool,
    pub(crate) records: Vec<Record>,
    pub(crate) lookup_errors: Vec<LookupError>,
}

impl Read {
    /// Adds records, each checked: one the engine cannot take is left out, its name a
    /// failed look-up, and the listing no longer complete (so no row is called missing
    /// on its account).
    pub(crate) fn add(&mut self, records: Vec<Record>, problems: &mut Vec<String>) {
        for record in records {
            let index = self.records.len();
            match crate::snapshot::check_record(record.get(), index) {
                Ok(()) => self.records.push(record),
                Err(e) => {
                    self.complete = false;
                    problems.push(format!("left an Openprovider record out of this run: {e}"));
                    if let Some(name) = name_of(&record) {
                        self.lookup_errors.push(LookupError {
                            domain: name,
                            kind: LookupKind::Error,
                            message: format!("Openprovider's record could not be read ({e})"),
                        });
                    }
                }
            }
        }
    }

    /// The names the records hold, in the form the engine pairs in.
    pub(crate) fn names(&self) -> BTreeSet<String> {
        self.records.iter().filter_map(|r| name_of(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(value: Value) -> Record {
        serde_json::value::to_raw_value(&value).unwrap()
    }

    fn page(offset: usize, ids: std::ops::Range<u64>, total: usize) -> Page {
        Page {
            offset,
            domains: ids.map(|id| record(json!({"id": id}))).collect(),
            total,
        }
    }

    fn ids(records: &[Record]) -> Vec<u64> {
        records.iter().filter_map(|d| id_of(d)).collect()
    }

    fn full(offset: usize, total: usize) -> Page {
        let start = offset as u64 + 1;
        let end = (offset + PAGE_SIZE).min(total) as u64 + 1;
        page(offset, start..end, total)
    }

    #[test]
    fn pages_that_agree_are_complete_in_offset_order() {
        let total = 2 * PAGE_SIZE + 1;
        let (domains, problems) = judge(
            total,
            vec![
                full(2 * PAGE_SIZE, total),
                full(0, total),
                full(PAGE_SIZE, total),
            ],
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(ids(&domains), (1..=total as u64).collect::<Vec<_>>());
    }

    #[test]
    fn a_total_that_moves_makes_it_incomplete() {
        let total = PAGE_SIZE + 2;
        let mut second = full(PAGE_SIZE, total);
        second.total = total + 1;
        let (_, problems) = judge(total, vec![full(0, total), second]);
        assert_eq!(
            problems,
            vec![format!(
                "the total moved from {total} to {} while listing (page at {PAGE_SIZE})",
                total + 1
            )]
        );
    }

    #[test]
    fn a_short_page_or_a_domain_listed_twice_makes_it_incomplete() {
        let (_, problems) = judge(3, vec![page(0, 1..3, 3)]);
        assert_eq!(problems, vec!["the page at 0 held 2 domains instead of 3"]);
        let (domains, problems) = judge(3, vec![page(0, 1..4, 3), page(3, 0..0, 3)]);
        assert!(problems.is_empty());
        assert_eq!(domains.len(), 3);
        let mut twice = page(0, 1..3, 3);
        twice.domains.push(record(json!({"id": 2})));
        let (domains, problems) = judge(3, vec![twice]);
        assert_eq!(ids(&domains), vec![1, 2]);
        assert_eq!(problems, vec!["domain id 2 was listed twice or has no id"]);
    }

    #[test]
    fn an_empty_account_is_complete() {
        let (domains, problems) = judge(0, vec![page(0, 0..0, 0)]);
        assert!(problems.is_empty() && domains.is_empty());
    }

    #[test]
    fn a_record_the_engine_cannot_take_is_left_out_and_named() {
        let mut read = Read {
            complete: true,
            ..Read::default()
        };
        let mut problems = Vec::new();
        read.add(
            vec![
                record(json!({"id": 1, "domain": {"name": "good", "extension": "com"}})),
                record(json!({"id": -4, "domain": {"name": "bad", "extension": "com"}})),
            ],
            &mut problems,
        );
        assert!(!read.complete);
        assert_eq!(ids(&read.records), vec![1]);
        assert_eq!(read.lookup_errors.len(), 1);
        assert_eq!(read.lookup_errors[0].domain, "bad.com");
        assert!(
            read.lookup_errors[0]
                .message
                .contains("openprovider.domains[1].id"),
            "{}",
            read.lookup_errors[0].message
        );
    }
}
