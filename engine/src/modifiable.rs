//! Openprovider accepts updates only for domains in status ACT; for any other status it
//! answers code 366. A change WHMCS wants for such a domain waits: it becomes a
//! `not_modifiable` notice (info), and the next run after the domain is ACT again makes it.

use crate::notice::Notice;
use crate::rule::Decision;
use crate::snapshot::OpDomain;

/// The Openprovider status under which updates are accepted.
pub(crate) const MODIFIABLE_OP_STATUS: &str = "ACT";

pub(crate) fn is_modifiable(op: &OpDomain) -> bool {
    op.effective_status() == Some(MODIFIABLE_OP_STATUS)
}

/// Lets a wanted Openprovider change through only while the domain can take it.
pub(crate) fn gate<T>(op: &OpDomain, what: &str, decision: Decision<T>) -> Decision<T> {
    match decision {
        Decision::Set(_) if !is_modifiable(op) => {
            Decision::Problem(Notice::not_modifiable(what, op.effective_status()))
        }
        other => other,
    }
}
