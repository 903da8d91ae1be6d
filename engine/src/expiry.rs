//! Expiry: Openprovider's date leads WHMCS's `expirydate`.
//!
//! The policy's `expiry_source` names which Openprovider date is the expiry; its calendar
//! day, as written, becomes `expirydate` when it differs. A missing or unset source date is
//! skipped silently unless the domain is ACT (an active domain always has one, so its
//! absence is worth an `invalid_date`); an unparseable one always is. An unknown date is
//! never written. When `expirydate` changes, the WHMCS update also clears `reminders`
//! (see [`update`](crate::update)).

use chrono::NaiveDate;

use crate::dates::OpDate;
use crate::modifiable::is_modifiable;
use crate::notice::Notice;
use crate::policy::ExpirySource;
use crate::rule::Decision;
use crate::snapshot::OpDomain;

pub(crate) fn decide(
    current: Option<NaiveDate>,
    op: &OpDomain,
    source: ExpirySource,
) -> Decision<NaiveDate> {
    let date = match source {
        ExpirySource::ExpirationDate => &op.expiration_date,
        ExpirySource::RenewalDate => &op.renewal_date,
    };
    match date {
        OpDate::Date(d) if Some(*d) == current => Decision::Keep,
        OpDate::Date(d) => Decision::Set(*d),
        OpDate::Invalid(raw) => Decision::Problem(Notice::invalid_date(source.field(), Some(raw))),
        // An active domain always has an expiry: its absence is worth telling.
        OpDate::Missing | OpDate::Unset if is_modifiable(op) => {
            Decision::Problem(Notice::invalid_date(source.field(), None))
        }
        OpDate::Missing | OpDate::Unset => Decision::Keep,
    }
}
