//! Expiry: Openprovider's date leads WHMCS's `expirydate`.
//!
//! The policy's `expiry_source` names which Openprovider date is the expiry; its calendar
//! day, as written, becomes `expirydate` when it differs. A missing or unset source date is
//! skipped silently unless the domain is ACT (an active domain always has one, so its
//! absence is worth an `invalid_date`); an unparseable one always is. An unknown date is
//! never written. (The host clears `tbldomains.reminders` whenever `expirydate` changes.)

use chrono::NaiveDate;

use crate::dates::OpDate;
use crate::notice::Notice;
use crate::policy::ExpirySource;
use crate::snapshot::OpDomain;
use crate::status::MODIFIABLE_OP_STATUS;

/// What the expiry rule decided.
pub enum Expiry {
    /// `expirydate` should become this day (it differs from the current one).
    Set(NaiveDate),
    /// Nothing to change.
    Keep,
    /// Nothing changes, and the admin should know why.
    Problem(Notice),
}

pub fn decide(current: Option<NaiveDate>, op: &OpDomain, source: ExpirySource) -> Expiry {
    let date = match source {
        ExpirySource::ExpirationDate => &op.expiration_date,
        ExpirySource::RenewalDate => &op.renewal_date,
    };
    match date {
        OpDate::Date(d) if Some(*d) == current => Expiry::Keep,
        OpDate::Date(d) => Expiry::Set(*d),
        OpDate::Invalid(raw) => Expiry::Problem(Notice::invalid_date(source.field(), Some(raw))),
        OpDate::Missing | OpDate::Unset if op.status.as_deref() == Some(MODIFIABLE_OP_STATUS) => {
            Expiry::Problem(Notice::invalid_date(source.field(), None))
        }
        OpDate::Missing | OpDate::Unset => Expiry::Keep,
    }
}
