//! Pairing: which Openprovider domain belongs to which WHMCS row, and which of several
//! WHMCS rows of one name is the one kept in sync.
//!
//! - Names are compared in their [`normalize`]d form.
//! - Several Openprovider domains of one name: a live record before a deleted one (v1.1),
//!   then ACT first, then the highest id (ties on
//!   both are broken by content, so the listing's order never matters).
//! - Several WHMCS rows of one name: the highest id among live rows (see
//!   [`WhmcsStatus::is_live`](crate::status::WhmcsStatus::is_live)), or the highest id when none is live. Rows that cannot be
//!   judged (`invalid_record`) take no part.
//!
//!   One refinement keeps law 1 (idempotence): a live row that this run's status decision
//!   makes Expired (Openprovider says DEL) does not count as live. Read literally, the
//!   contract would keep row 10 of two Active rows 3 and 10, expire it, and on the next
//!   run keep row 3 instead and expire that one too: the very "duplicates silently
//!   expired" failure of the old cron, spread over two runs. With the refinement, row 10
//!   is kept whatever happens to it, and row 3 keeps its `duplicate_domain` warning until
//!   an admin resolves it. Where no live row is about to become Expired, the two readings
//!   agree.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};

use crate::modifiable::is_modifiable;
use crate::name::normalize;
use crate::policy::{has_extension, Exclusions, Policy};
use crate::rule::Decision;
use crate::snapshot::{LookupError, OpDomain, Snapshot, WhmcsRow};
use crate::status;

/// A hash map with a fixed hasher: no per-process random seed anywhere in the engine.
pub(crate) type Map<K, V> = HashMap<K, V, BuildHasherDefault<DefaultHasher>>;

pub(crate) struct Pairing<'a> {
    /// Normalised name per WHMCS row (request order); `None` for an unusable name.
    pub(crate) names: Vec<Option<String>>,
    op_by_name: Map<String, &'a OpDomain>,
    /// Normalised name -> id of the row kept in sync, for names with several rows.
    kept: Map<String, u64>,
    lookups: Map<String, &'a LookupError>,
    /// The request's policy, and one per `by_extension` entry (longest extension first).
    policy: &'a Policy,
    per_extension: Vec<(String, Policy)>,
    excluded: Exclusions<'a>,
}

impl<'a> Pairing<'a> {
    pub(crate) fn new(request: &'a Snapshot) -> Pairing<'a> {
        let mut op_by_name: Map<String, &OpDomain> =
            Map::with_capacity_and_hasher(request.openprovider.domains.len(), Default::default());
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
        let per_extension = request.policy.per_extension();
        let excluded = Exclusions::new(&request.policy);
        let policy_for = |name: &str| row_policy(&request.policy, &per_extension, name);

        // Rows that take part in choosing, by name; only names with several rows matter.
        let judged = || {
            request
                .whmcs
                .iter()
                .zip(&names)
                .filter(|(row, _)| row.status.is_some() && row.defects.is_empty())
                .filter_map(|(row, name)| Some((row, name.as_deref()?)))
                // An excluded name is nobody's to keep in sync (v1.4).
                .filter(|(_, name)| !excluded.contains(name))
        };
        let mut counts: Map<&str, u32> =
            Map::with_capacity_and_hasher(names.len(), Default::default());
        for (_, name) in judged() {
            *counts.entry(name).or_default() += 1;
        }
        let mut groups: Map<&str, Vec<&WhmcsRow>> = Map::default();
        for (row, name) in judged().filter(|(_, name)| counts[name] > 1) {
            groups.entry(name).or_default().push(row);
        }
        let kept = groups
            .into_iter()
            .map(|(name, rows)| {
                let op = op_by_name.get(name).copied();
                (name.to_string(), kept_row(&rows, op, policy_for(name)))
            })
            .collect();

        let mut lookups: Map<String, &LookupError> = Map::default();
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
            policy: &request.policy,
            per_extension,
            excluded,
        }
    }

    /// Whether normalised `name` is excluded (v1.4): by name, or by whole trailing labels.
    pub(crate) fn is_excluded(&self, name: &str) -> bool {
        self.excluded.contains(name)
    }

    /// The policy for normalised `name`: the longest matching `by_extension` entry's
    /// fields over the request's (v1.4).
    pub(crate) fn policy_for(&self, name: &str) -> &Policy {
        row_policy(self.policy, &self.per_extension, name)
    }

    pub(crate) fn openprovider(&self, name: &str) -> Option<&'a OpDomain> {
        self.op_by_name.get(name).copied()
    }

    /// The id of the row kept in sync when `name` has several rows.
    pub(crate) fn kept_row(&self, name: &str) -> Option<u64> {
        self.kept.get(name).copied()
    }

    pub(crate) fn lookup_error(&self, name: &str) -> Option<&'a LookupError> {
        self.lookups.get(name).copied()
    }
}

fn row_policy<'p>(
    top: &'p Policy,
    per_extension: &'p [(String, Policy)],
    name: &str,
) -> &'p Policy {
    per_extension
        .iter()
        .find(|(extension, _)| has_extension(name, extension))
        .map_or(top, |(_, policy)| policy)
}

/// The highest id among rows live now and still live after this run's status decision;
/// the highest id when there is none.
fn kept_row(rows: &[&WhmcsRow], op: Option<&OpDomain>, policy: &Policy) -> u64 {
    let stays_live = |row: &WhmcsRow| {
        let Some(now) = row.status else { return false };
        let after = match op {
            Some(op) if policy.sync_status && !policy.is_protected(now) => {
                match status::decide(now, op.effective_status()) {
                    Decision::Set(target) => target,
                    _ => now,
                }
            }
            _ => now,
        };
        now.is_live() && after.is_live()
    };
    let live_max = rows.iter().filter(|r| stays_live(r)).map(|r| r.id).max();
    live_max.unwrap_or_else(|| rows.iter().map(|r| r.id).max().unwrap_or(0))
}

/// Whether `candidate` should replace `current` as the record of their shared name.
fn op_preferred(candidate: &OpDomain, current: &OpDomain) -> bool {
    let key = |d: &OpDomain| (!d.is_deleted, is_modifiable(d), d.id);
    match key(candidate).cmp(&key(current)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        // Same id listed twice: pick by content so that order never decides.
        std::cmp::Ordering::Equal => format!("{candidate:?}") > format!("{current:?}"),
    }
}

#[cfg(test)]
mod tests {
    use crate::contract::LookupKind;

    #[test]
    fn not_found_outranks_a_failed_lookup() {
        assert!(LookupKind::NotFound < LookupKind::Error);
    }
}
