//! The WHMCS rows a run reads, as the host hands them over: each row's columns as text,
//! `userid` first. Each row is judged as it arrives; one the engine cannot take at all (an
//! id that is no positive number, an id seen before) is left out of the run and becomes a
//! failure of the report, so one bad row never stops a run.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::columns::WHMCS_COLUMNS;
use crate::contract::WhmcsRow;
use crate::report::{Failure, Side};

/// Rows per `read_rows` request: a host never holds more at once.
pub(crate) const ROWS_PER_READ: u64 = 10_000;
/// Names per `read_names` request, and ids per `read_rows_by_id`.
pub(crate) const NAMES_PER_READ: u64 = 50_000;
pub(crate) const IDS_PER_READ: usize = 1_000;

/// The rows read so far.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub(crate) rows: Vec<WhmcsRow>,
    /// The client of each row, in step with `rows` (activity lines and links name it).
    pub(crate) userids: Vec<u64>,
    /// Where each id sits in `rows`.
    seen: BTreeMap<u64, usize>,
}

/// What one answer to a read held.
pub(crate) struct Batch {
    /// How many rows the answer held, readable or not.
    pub(crate) count: usize,
    /// The id of the last row, as the database wrote it: the next read starts after it.
    pub(crate) last_id: Option<String>,
}

impl Rows {
    /// Adds the rows of one answer (`[[userid, id, domain, ...], ...]`); rows left out
    /// become failures.
    pub(crate) fn add(
        &mut self,
        body: &[u8],
        failures: &mut Vec<Failure>,
    ) -> Result<Batch, String> {
        let rows: Vec<Vec<Value>> = serde_json::from_slice(body)
            .map_err(|e| format!("the rows read from WHMCS are not a list of rows ({e})"))?;
        let mut last_id = None;
        for (i, columns) in rows.iter().enumerate() {
            if columns.len() != WHMCS_COLUMNS.len() + 1 {
                return Err(format!(
                    "row {i} of a read holds {} columns instead of {}",
                    columns.len(),
                    WHMCS_COLUMNS.len() + 1
                ));
            }
            let text: Vec<Option<String>> = columns.iter().map(text).collect();
            last_id = text[1].clone();
            self.add_row(&text, failures);
        }
        Ok(Batch {
            count: rows.len(),
            last_id,
        })
    }

    fn add_row(&mut self, text: &[Option<String>], failures: &mut Vec<Failure>) {
        let userid = text[0].as_deref().and_then(|u| u.parse().ok()).unwrap_or(0);
        let mut at = 1;
        let row = WhmcsRow::from_columns(|_| {
            at += 1;
            text[at - 1].clone()
        });
        let raw_id = text[1].clone().unwrap_or_default();
        let domain = text[2].clone().unwrap_or_default();
        let row = match row {
            Ok(row) => row,
            Err(why) => {
                failures.push(Failure {
                    whmcs_id: raw_id.parse().unwrap_or(0),
                    domain,
                    side: Side::Whmcs,
                    message: format!(
                        "left out of this run: row id {raw_id:?} cannot be read ({why}); fix it in WHMCS"
                    ),
                });
                return;
            }
        };
        let index = self.rows.len();
        let problem = match crate::snapshot::id_in_range(row.id) {
            Err(e) => Some(format!("whmcs[{index}].id: {e}")),
            Ok(_) => self.seen.get(&row.id).map(|first| {
                format!(
                    "whmcs[{index}].id: id {} appears twice (also at whmcs[{first}])",
                    row.id
                )
            }),
        };
        if let Some(problem) = problem {
            failures.push(Failure {
                whmcs_id: row.id,
                domain: row.domain,
                side: Side::Whmcs,
                message: format!(
                    "left out of this run: the engine cannot read this row ({problem}); fix it in WHMCS"
                ),
            });
            return;
        }
        self.seen.insert(row.id, index);
        self.rows.push(row);
        self.userids.push(userid);
    }

    /// The ids of rows outside this run that share a name with one of its rows, from a
    /// page of `[id, domain]` (a batch judges duplicate names with every row of the
    /// name, not only those it holds). The id of the page's last row comes with them.
    pub(crate) fn mates(&self, body: &[u8]) -> Result<(Vec<u64>, usize, Option<String>), String> {
        let pairs: Vec<Vec<Value>> = serde_json::from_slice(body)
            .map_err(|e| format!("the names read from WHMCS are not a list of rows ({e})"))?;
        let names: std::collections::BTreeSet<String> = self.names().into_iter().collect();
        let mut mates = Vec::new();
        let mut last = None;
        for pair in &pairs {
            let [id, domain] = pair.as_slice() else {
                return Err("a row of names holds other than an id and a name".into());
            };
            last = text(id);
            let (Some(id), Some(domain)) = (
                last.as_deref().and_then(|i| i.parse::<u64>().ok()),
                text(domain),
            ) else {
                continue;
            };
            let shares = crate::lookup_name(&domain).is_some_and(|n| names.contains(&n));
            if shares && !self.seen.contains_key(&id) {
                mates.push(id);
            }
        }
        Ok((mates, pairs.len(), last))
    }

    /// The names of the rows, in the form the engine pairs in (unusable names left out),
    /// each once, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .rows
            .iter()
            .filter_map(|r| crate::lookup_name(&r.domain))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// A column as text: PDO and sqlx hand text; a number is taken as its digits.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_the_engine_cannot_take_are_left_out_and_reported() {
        let mut rows = Rows::default();
        let mut failures = Vec::new();
        let body = serde_json::json!([
            [
                "3",
                "12",
                "good.com",
                "Active",
                "2026-01-01",
                null,
                null,
                "0",
                "1"
            ],
            [
                "3",
                "-4",
                "negative.com",
                "Active",
                null,
                null,
                null,
                null,
                null
            ],
            [
                "3",
                "12",
                "again.com",
                "Active",
                null,
                null,
                null,
                null,
                null
            ],
            [
                "4",
                "9007199254740993",
                "huge.com",
                "Active",
                null,
                null,
                null,
                null,
                null
            ],
        ]);
        let batch = rows
            .add(body.to_string().as_bytes(), &mut failures)
            .unwrap();
        assert_eq!(batch.count, 4);
        assert_eq!(batch.last_id.as_deref(), Some("9007199254740993"));
        assert_eq!(rows.rows.len(), 1);
        assert_eq!(rows.userids, vec![3]);
        let messages: Vec<&str> = failures.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "left out of this run: row id \"-4\" cannot be read (tbldomains has a row whose id \"-4\" is not a number); fix it in WHMCS",
                "left out of this run: the engine cannot read this row (whmcs[1].id: id 12 appears twice (also at whmcs[0])); fix it in WHMCS",
                "left out of this run: the engine cannot read this row (whmcs[1].id: expected an integer from 1 to 9007199254740991); fix it in WHMCS",
            ]
        );
    }

    #[test]
    fn a_read_that_is_no_list_of_rows_is_an_error() {
        let mut rows = Rows::default();
        assert!(rows.add(b"{}", &mut Vec::new()).is_err());
        assert!(rows.add(b"[[\"1\"]]", &mut Vec::new()).is_err());
    }
}
