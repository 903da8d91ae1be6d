//! The bulk listing: every domain of the account in pages of 500, several in flight, and
//! the judgement whether the pages add up to one consistent listing. Only a consistent
//! listing is `complete`, and only a complete listing lets the engine say a domain is not
//! in the account.

use std::collections::BTreeSet;

use futures_util::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::transport::Call;
use super::{ApiError, Client};

/// One domain object as the API sent it: its JSON text, not a tree of values (100k of
/// them as trees cost several times their text). [`id_of`] and [`name_of`] read what the
/// host needs from it.
pub type Record = Box<RawValue>;

/// Every domain of the account, as far as the listing could tell.
#[derive(Debug, Clone)]
pub struct Listing {
    pub domains: Vec<Record>,
    /// True only when the pages were consistent with each other.
    pub complete: bool,
    /// Why the listing is not complete.
    pub problems: Vec<String>,
}

/// One page as it came back.
#[derive(Debug, Clone)]
pub struct Page {
    /// The `offset` it was asked for.
    pub offset: usize,
    pub domains: Vec<Record>,
    /// The `total` the API reported with it.
    pub total: usize,
}

impl Client {
    /// Every domain of the account, in pages, several at a time.
    pub async fn list_all(&self) -> Result<Listing, ApiError> {
        let size = self.config.page_size;
        let first = self.list_page(0, size).await?;
        let total = first.total;
        let offsets: Vec<usize> = (size..total).step_by(size).collect();
        let rest: Vec<Result<Page, ApiError>> = stream::iter(offsets)
            .map(|offset| self.list_page(offset, size))
            .buffer_unordered(self.config.concurrency)
            .collect()
            .await;
        let mut pages = vec![first];
        for page in rest {
            pages.push(page?);
        }
        Ok(judge(size, total, pages))
    }

    /// One `GET /domains` with `query` as given, its `data` as Openprovider answered it
    /// (`opsync check --live-api` probes the API's behaviour with it).
    pub async fn list_query(&self, query: &[(String, String)]) -> Result<Value, ApiError> {
        self.call(Call::get("/domains", query)).await
    }

    /// The first page of the listing, as the sync reads it.
    pub async fn first_page(&self, limit: usize) -> Result<Page, ApiError> {
        self.list_page(0, limit).await
    }

    async fn list_page(&self, offset: usize, limit: usize) -> Result<Page, ApiError> {
        let query = vec![
            ("limit".to_string(), limit.to_string()),
            ("offset".to_string(), offset.to_string()),
            ("order_by.id".to_string(), "asc".to_string()),
        ];
        let data = self.call_raw(Call::get("/domains", &query)).await?;
        let (domains, total) = records_of(data.as_deref())?;
        Ok(Page {
            offset,
            domains,
            total,
        })
    }
}

/// Whether `pages` (of `page_size`, the first reporting `total`) make one consistent
/// listing: every page reports the same total, every page but the last is full and the
/// last holds the rest, no domain comes twice or without an id. The domains are kept in
/// offset order, each id once, whatever the verdict.
pub fn judge(page_size: usize, total: usize, mut pages: Vec<Page>) -> Listing {
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
        let expected = page_size.min(total.saturating_sub(offset));
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
    Listing {
        complete: problems.is_empty(),
        domains,
        problems,
    }
}

/// A listing answer's `results` (each record's text) and `total`.
fn records_of(data: Option<&RawValue>) -> Result<(Vec<Record>, usize), ApiError> {
    #[derive(Deserialize)]
    struct Data {
        #[serde(default)]
        results: Option<Vec<Record>>,
        total: Option<Value>,
    }
    let unreadable = |why: String| ApiError::Unavailable {
        attempts: 1,
        last: why,
    };
    let data: Data = match data {
        Some(raw) => serde_json::from_str(raw.get())
            .map_err(|e| unreadable(format!("a listing that does not read: {e}")))?,
        None => return Err(unreadable("a listing without a total".into())),
    };
    let total = data
        .total
        .and_then(|t| t.as_u64())
        .ok_or_else(|| unreadable("a listing without a total".into()))?;
    Ok((data.results.unwrap_or_default(), total as usize))
}

/// A record's `id`, when it is a whole number.
pub fn id_of(record: &RawValue) -> Option<u64> {
    #[derive(Deserialize)]
    struct Id {
        id: Option<Value>,
    }
    serde_json::from_str::<Id>(record.get()).ok()?.id?.as_u64()
}

/// A record's `domain.name` and `domain.extension` (`None` when either is missing).
pub fn name_of(record: &RawValue) -> Option<(String, String)> {
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
    Some((
        domain.name?.as_str()?.to_string(),
        domain.extension?.as_str()?.to_string(),
    ))
}

/// A listing answer's `results` and `total`, from a value (look-ups by name).
pub(super) fn page_of(data: &Value) -> Result<(Vec<Value>, usize), ApiError> {
    let results = data["results"].as_array().cloned().unwrap_or_default();
    let total = data["total"]
        .as_u64()
        .ok_or_else(|| ApiError::Unavailable {
            attempts: 1,
            last: "a listing without a total".into(),
        })?;
    Ok((results, total as usize))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{id_of, judge, Page, Record};

    fn record(value: serde_json::Value) -> Record {
        serde_json::value::to_raw_value(&value).unwrap()
    }

    fn page(offset: usize, ids: std::ops::Range<u64>, total: usize) -> Page {
        Page {
            offset,
            domains: ids.map(|id| record(json!({"id": id}))).collect(),
            total,
        }
    }

    fn ids(listing: &super::Listing) -> Vec<u64> {
        listing.domains.iter().filter_map(|d| id_of(d)).collect()
    }

    #[test]
    fn pages_that_agree_are_complete_in_offset_order() {
        let listing = judge(
            2,
            5,
            vec![page(4, 5..6, 5), page(0, 1..3, 5), page(2, 3..5, 5)],
        );
        assert!(listing.complete, "{:?}", listing.problems);
        assert_eq!(ids(&listing), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_total_that_moves_makes_it_incomplete() {
        let listing = judge(2, 4, vec![page(0, 1..3, 4), page(2, 3..5, 5)]);
        assert!(!listing.complete);
        assert_eq!(
            listing.problems,
            vec!["the total moved from 4 to 5 while listing (page at 2)"]
        );
    }

    #[test]
    fn a_short_page_makes_it_incomplete() {
        let listing = judge(2, 4, vec![page(0, 1..3, 4), page(2, 3..4, 4)]);
        assert!(!listing.complete);
        assert_eq!(
            listing.problems,
            vec!["the page at 2 held 1 domains instead of 2"]
        );
    }

    #[test]
    fn a_domain_listed_twice_is_kept_once_and_makes_it_incomplete() {
        // Something vanished before page 2 was read: id 2 slid onto it.
        let listing = judge(2, 4, vec![page(0, 1..3, 4), page(2, 2..4, 4)]);
        assert!(!listing.complete);
        assert_eq!(ids(&listing), vec![1, 2, 3]);
        assert_eq!(
            listing.problems,
            vec!["domain id 2 was listed twice or has no id"]
        );
    }

    #[test]
    fn a_domain_without_an_id_makes_it_incomplete() {
        let mut first = page(0, 1..2, 2);
        first
            .domains
            .push(record(json!({"domain": {"name": "x", "extension": "com"}})));
        let listing = judge(2, 2, vec![first]);
        assert!(!listing.complete);
        assert_eq!(ids(&listing), vec![1]);
    }

    #[test]
    fn an_empty_account_is_complete() {
        let listing = judge(500, 0, vec![page(0, 0..0, 0)]);
        assert!(listing.complete);
        assert!(listing.domains.is_empty());
    }
}
