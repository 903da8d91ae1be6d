//! WHOIS privacy: WHMCS leads. `idprotection` is what `is_private_whois_enabled` should be.
//! Where the TLD does not allow privacy, enabling it is reported instead of attempted
//! (Openprovider would answer 19006).

use crate::notice::Notice;
use crate::rule::Decision;
use crate::snapshot::OpDomain;

pub(crate) fn decide(idprotection: Option<bool>, op: &OpDomain) -> Decision<bool> {
    let Some(wanted) = idprotection else {
        return Decision::Keep;
    };
    // A domain whose TLD has no privacy cannot have it on, whatever the field says.
    let current = op
        .is_private_whois_enabled
        .or((!op.is_private_whois_allowed).then_some(false));
    if current == Some(wanted) {
        Decision::Keep
    } else if wanted && !op.is_private_whois_allowed {
        Decision::Problem(Notice::whois_privacy_not_allowed())
    } else {
        Decision::Set(wanted)
    }
}
