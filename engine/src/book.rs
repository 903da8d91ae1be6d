//! The whole book (contract v1.4): the live Openprovider records that no openprovider row
//! of WHMCS has, each with the other registrar's row that has its name, if any.
//!
//! Only from a complete listing: a record missing from a partial picture proves nothing.
//! Records are taken in the order of their normalised names (then ids); deleted records,
//! names no domain can have and excluded names are left out.

use std::collections::HashSet;

use crate::changes::OpenproviderOnly;
use crate::dates::{format_day, OpDate};
use crate::name::normalize;
use crate::notice::Notice;
use crate::pairing::{Map, Pairing};
use crate::policy::ExpirySource;
use crate::snapshot::{OtherRow, Snapshot};

pub(crate) fn openprovider_only(
    request: &Snapshot,
    pairing: &Pairing,
    other: &[OtherRow],
) -> Vec<OpenproviderOnly> {
    if !request.openprovider.complete {
        return Vec::new();
    }
    let billed: HashSet<&str> = pairing.names.iter().flatten().map(String::as_str).collect();
    // Per name, the other registrar's row that has it: live rows first, then the highest id.
    let mut filed: Map<&str, &OtherRow> = Map::default();
    for row in other {
        let Some(name) = row.name.as_deref() else {
            continue;
        };
        let key = |r: &OtherRow| (r.status.is_some_and(|s| s.is_live()), r.id);
        match filed.get_mut(name) {
            Some(current) if key(row) > key(current) => *current = row,
            Some(_) => {}
            None => {
                filed.insert(name, row);
            }
        }
    }

    let mut records: Vec<(String, &crate::snapshot::OpDomain)> = request
        .openprovider
        .domains
        .iter()
        .filter(|d| !d.is_deleted)
        .filter_map(|d| Some((normalize(&d.full_name)?, d)))
        .filter(|(name, _)| !billed.contains(name.as_str()))
        .filter(|(name, _)| !pairing.is_excluded(name))
        .collect();
    records.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.id.cmp(&y.id)));

    records
        .into_iter()
        .map(|(name, d)| {
            let date = match pairing.policy_for(&name).expiry_source {
                ExpirySource::ExpirationDate => &d.expiration_date,
                ExpirySource::RenewalDate => &d.renewal_date,
            };
            let expiry = match date {
                OpDate::Date(day) => Some(format_day(*day)),
                _ => None,
            };
            let (whmcs_id, registrar, notice) = match filed.get(name.as_str()) {
                Some(row) => (
                    Some(row.id),
                    Some(row.registrar.clone()),
                    Notice::registrar_mismatch(
                        row.status.is_some_and(|s| s.expects_registrar_record()),
                        row.id,
                        &row.registrar,
                    ),
                ),
                None => {
                    let renews =
                        d.status.as_deref() == Some("ACT") && d.autorenew.as_deref() != Some("off");
                    (None, None, Notice::not_in_whmcs(renews))
                }
            };
            OpenproviderOnly {
                openprovider_id: d.id,
                domain: d.full_name.clone(),
                status: d.status.clone(),
                expiry,
                autorenew: d.autorenew.clone(),
                whmcs_id,
                registrar,
                notice,
            }
        })
        .collect()
}
