//! Pairing: which Openprovider domain belongs to which WHMCS row, and which of several
//! WHMCS rows of one name is the one kept in sync.
//!
//! - Names are compared in their [`normalize`]d form.
//! - Several Openprovider domains of one name: ACT first, then the highest id (ties on
//!   both are broken by content, so the listing's order never matters).
//! - Several WHMCS rows of one name: the highest id among live rows (see
//!   [`WhmcsStatus::is_live`]), or the highest id when none is live. Rows that cannot be
//!   judged (`invalid_record`) take no part.

use std::collections::HashMap;

use crate::name::normalize;
use crate::snapshot::{LookupError, OpDomain, Request, WhmcsRow};
use crate::status::{WhmcsStatus, MODIFIABLE_OP_STATUS};

pub struct Pairing<'a> {
    /// Normalised name per WHMCS row (request order); `None` for an unusable name.
    pub names: Vec<Option<String>>,
    op_by_name: HashMap<String, &'a OpDomain>,
    /// Normalised name -> id of the row kept in sync, for names with several rows.
    kept: HashMap<String, u64>,
    lookups: HashMap<String, &'a LookupError>,
}

impl<'a> Pairing<'a> {
    pub fn new(request: &'a Request) -> Pairing<'a> {
        let mut op_by_name: HashMap<String, &OpDomain> =
            HashMap::with_capacity(request.openprovider.domains.len());
        for domain in &request.openprovider.domains {
            let Some(name) = normalize(&domain.full_name) else {
                continue;
            };
            match op_by_name.get_mut(&name) {
                Some(current) if !op_preferred(domain, current) => {}
                Some(current) => *current = domain,
                None => {
                    op_by_name.insert(name, domain);
                }
            }
        }

        let names: Vec<Option<String>> =
            request.whmcs.iter().map(|r| normalize(&r.domain)).collect();

        let mut groups: HashMap<&str, Vec<&WhmcsRow>> = HashMap::new();
        for (row, name) in request.whmcs.iter().zip(&names) {
            if let (Some(name), Some(_)) = (name, row.status) {
                if row.defects.is_empty() {
                    groups.entry(name.as_str()).or_default().push(row);
                }
            }
        }
        let kept = groups
            .into_iter()
            .filter(|(_, rows)| rows.len() > 1)
            .map(|(name, rows)| (name.to_string(), kept_row(&rows)))
            .collect();

        let mut lookups: HashMap<String, &LookupError> = HashMap::new();
        for error in &request.lookup_errors {
            let Some(name) = normalize(&error.domain) else {
                continue;
            };
            // A definite "not found" outranks a failed look-up of the same name
            // (`LookupKind` is ordered that way).
            match lookups.get_mut(&name) {
                Some(current) if error.kind < current.kind => *current = error,
                Some(_) => {}
                None => {
                    lookups.insert(name, error);
                }
            }
        }

        Pairing {
            names,
            op_by_name,
            kept,
            lookups,
        }
    }

    pub fn openprovider(&self, name: &str) -> Option<&'a OpDomain> {
        self.op_by_name.get(name).copied()
    }

    /// The id of the row kept in sync when `name` has several rows.
    pub fn kept_row(&self, name: &str) -> Option<u64> {
        self.kept.get(name).copied()
    }

    pub fn lookup_error(&self, name: &str) -> Option<&'a LookupError> {
        self.lookups.get(name).copied()
    }
}

fn kept_row(rows: &[&WhmcsRow]) -> u64 {
    let live_max = rows
        .iter()
        .filter(|r| r.status.is_some_and(WhmcsStatus::is_live))
        .map(|r| r.id)
        .max();
    live_max.unwrap_or_else(|| rows.iter().map(|r| r.id).max().unwrap_or(0))
}

/// Whether `candidate` should replace `current` as the record of their shared name.
fn op_preferred(candidate: &OpDomain, current: &OpDomain) -> bool {
    let key = |d: &OpDomain| (d.status.as_deref() == Some(MODIFIABLE_OP_STATUS), d.id);
    match key(candidate).cmp(&key(current)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        // Same id listed twice: pick by content so that order never decides.
        std::cmp::Ordering::Equal => format!("{candidate:?}") > format!("{current:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::LookupKind;

    #[test]
    fn not_found_outranks_a_failed_lookup() {
        assert!(LookupKind::NotFound < LookupKind::Error);
    }
}
