//! Notices: what the engine tells the admin about a row. Codes are exactly the contract's;
//! severities and wording live here, in one place.
//!
//! | code | severity | when |
//! |---|---|---|
//! | `request_failed` | error | Openprovider status FAI |
//! | `unknown_status` | warning | an Openprovider status the table does not know |
//! | `invalid_date` | error | the expiry source is unparseable, or missing for an ACT domain |
//! | `due_date_shift_too_large` | warning | the due date would move further than the guard |
//! | `whois_privacy_not_allowed` | warning | ID protection wanted where the TLD has none |
//! | `not_modifiable` | info | a wanted Openprovider change while the domain is not ACT |
//! | `not_in_openprovider` | error / info | no record: listing complete, or look-up said not found |
//! | `lookup_failed` | error / info | no record: the look-up itself failed |
//! | `not_checked` | error / info | no record, and no look-up said why |
//! | `invalid_record` | error | the WHMCS row cannot be judged |
//! | `duplicate_domain` | warning / info | another row of the same name is the one kept in sync |
//! | `mass_change_held` | error | (the response's own notice, v1.1) the mass-change brake held the run |
//! | `excluded` | info | (v1.4) the row is excluded by policy: nothing changes on either side |
//! | `transfer_confirmation_stale` | warning | (v1.4) an admin's transfer-away confirmation this request's own picture does not bear out |
//! | `not_in_whmcs` | warning / info | (v1.4, `openprovider_only[]`) no WHMCS row has the name: warning when ACT with auto-renew not off |
//! | `registrar_mismatch` | warning / info | (v1.4, `openprovider_only[]`) the WHMCS row is filed under another registrar: warning for its Active or Pending class |
//! | `setup_problem` | error | (a run's own notice, never `decide`'s) the host found its setup broken, e.g. a module update put the old cron file back |
//!
//! "error / info": error for rows in the Active or Pending class, info otherwise.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    RequestFailed,
    UnknownStatus,
    InvalidDate,
    DueDateShiftTooLarge,
    WhoisPrivacyNotAllowed,
    NotModifiable,
    NotInOpenprovider,
    LookupFailed,
    NotChecked,
    InvalidRecord,
    DuplicateDomain,
    MassChangeHeld,
    SetupProblem,
    Excluded,
    TransferConfirmationStale,
    NotInWhmcs,
    RegistrarMismatch,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::RequestFailed => "request_failed",
            Code::UnknownStatus => "unknown_status",
            Code::InvalidDate => "invalid_date",
            Code::DueDateShiftTooLarge => "due_date_shift_too_large",
            Code::WhoisPrivacyNotAllowed => "whois_privacy_not_allowed",
            Code::NotModifiable => "not_modifiable",
            Code::NotInOpenprovider => "not_in_openprovider",
            Code::LookupFailed => "lookup_failed",
            Code::NotChecked => "not_checked",
            Code::InvalidRecord => "invalid_record",
            Code::DuplicateDomain => "duplicate_domain",
            Code::MassChangeHeld => "mass_change_held",
            Code::SetupProblem => "setup_problem",
            Code::Excluded => "excluded",
            Code::TransferConfirmationStale => "transfer_confirmation_stale",
            Code::NotInWhmcs => "not_in_whmcs",
            Code::RegistrarMismatch => "registrar_mismatch",
        }
    }

    /// One short line of what the admin can do about a notice of this code: the report's
    /// "What to do" (contract v1.2). opsync itself never does more than the line says.
    pub fn advice(self) -> &'static str {
        match self {
            Code::RequestFailed => {
                "Openprovider reports the domain's last request failed: open the domain in \
                 Openprovider's control panel, retry the request there or ask their support."
            }
            Code::UnknownStatus => {
                "Openprovider gave a status opsync does not know: check the domain at \
                 Openprovider and set the WHMCS status by hand if it is wrong."
            }
            Code::InvalidDate => {
                "Openprovider's date for the domain is missing or unreadable: check the domain \
                 at Openprovider; the WHMCS dates stay as they are until it gives a valid one."
            }
            Code::DueDateShiftTooLarge => {
                "check the client's invoices, then set the due date by hand, or raise \
                 due_date_max_shift_days for one run."
            }
            Code::WhoisPrivacyNotAllowed => {
                "the extension has no WHOIS privacy at Openprovider: switch ID protection off \
                 for the domain in WHMCS (and credit the client if it was charged)."
            }
            Code::NotModifiable => {
                "Openprovider accepts changes only for active domains: nothing to do unless \
                 the domain should be active."
            }
            Code::NotInOpenprovider => {
                "if the domain moved to another registrar, set it to Transferred Away in WHMCS \
                 (opsync never does that on its own); otherwise check the Openprovider account \
                 and the name's spelling."
            }
            Code::LookupFailed => {
                "the look-up itself failed (network or API): nothing to do if the next run \
                 passes; if it repeats, run opsync check."
            }
            Code::NotChecked => {
                "the domain was not checked in this run: if it repeats, run opsync check."
            }
            Code::InvalidRecord => {
                "fix the WHMCS row (an empty or unusable domain name): opsync leaves it alone \
                 until then."
            }
            Code::DuplicateDomain => {
                "more than one WHMCS row has this name: keep the one opsync syncs (named in \
                 the detail) and cancel or delete the others."
            }
            Code::MassChangeHeld => {
                "read the changes below; if they are right, release one run \
                 (opsync sync --allow-mass-change, or the addon's release button); if not, \
                 find out why so many domains differ."
            }
            Code::SetupProblem => {
                "the detail says what in this installation needs a hand, and how to fix it; \
                 every report says it until then."
            }
            Code::Excluded => {
                "excluded by your policy: opsync changes nothing for it on either side; \
                 remove the exclusion to sync it again."
            }
            Code::TransferConfirmationStale => {
                "the domain is at Openprovider again, or this run could not see the whole \
                 account, or the row is protected: the confirmation was dropped; confirm again \
                 if the domain really left."
            }
            Code::NotInWhmcs => {
                "Openprovider holds (and, with auto-renew on, renews at your cost) a domain no \
                 WHMCS row bills: add it to the client's account in WHMCS, or switch its \
                 auto-renew off at Openprovider."
            }
            Code::RegistrarMismatch => {
                "the WHMCS row names another registrar although the domain is in this \
                 Openprovider account: set the row's registrar to Openprovider so it is synced."
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
}

impl Notice {
    fn new(severity: Severity, code: Code, message: impl Into<String>) -> Notice {
        Notice {
            severity,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn request_failed() -> Notice {
        // Worded exactly as the old cron logged it, so admins recognise it.
        Notice::new(
            Severity::Error,
            Code::RequestFailed,
            "The domain name request has failed",
        )
    }

    pub(crate) fn unknown_status(op_status: Option<&str>) -> Notice {
        let message = match op_status {
            Some(s) => format!(
                "Openprovider status {s:?} is not one opsync knows; the WHMCS status was left as it is"
            ),
            None => "Openprovider gave no status; the WHMCS status was left as it is".to_string(),
        };
        Notice::new(Severity::Warning, Code::UnknownStatus, message)
    }

    pub(crate) fn invalid_date(field: &str, raw: Option<&str>) -> Notice {
        let message = match raw {
            Some(raw) => format!(
                "Openprovider {field} {raw} is not a valid date; expirydate was left as it is"
            ),
            None => format!(
                "Openprovider gives no {field} for this active domain; expirydate was left as it is"
            ),
        };
        Notice::new(Severity::Error, Code::InvalidDate, message)
    }

    pub(crate) fn due_date_shift_too_large(
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        shift: i64,
        max: i64,
    ) -> Notice {
        Notice::new(
            Severity::Warning,
            Code::DueDateShiftTooLarge,
            format!(
                "nextduedate would move {shift} days, from {from} to {to}, more than the {max} \
                 allowed; left as it is (check the invoices by hand)"
            ),
        )
    }

    pub(crate) fn whois_privacy_not_allowed() -> Notice {
        Notice::new(
            Severity::Warning,
            Code::WhoisPrivacyNotAllowed,
            "ID protection is on in WHMCS, but Openprovider does not allow WHOIS privacy for this domain",
        )
    }

    pub(crate) fn excluded() -> Notice {
        Notice::new(
            Severity::Info,
            Code::Excluded,
            "Excluded by policy: nothing was changed on either side",
        )
    }

    pub(crate) fn transfer_confirmation_stale(why: &str) -> Notice {
        Notice::new(
            Severity::Warning,
            Code::TransferConfirmationStale,
            format!("The confirmed transfer away was not applied: {why}"),
        )
    }

    /// `renews`: the record is ACT with auto-renew not off.
    pub(crate) fn not_in_whmcs(renews: bool) -> Notice {
        Notice::new(
            if renews {
                Severity::Warning
            } else {
                Severity::Info
            },
            Code::NotInWhmcs,
            if renews {
                "In Openprovider, renewed automatically, and no WHMCS row bills it"
            } else {
                "In Openprovider, and no WHMCS row bills it"
            },
        )
    }

    /// `live`: the WHMCS row is in the Active or Pending class.
    pub(crate) fn registrar_mismatch(live: bool, row: u64, registrar: &str) -> Notice {
        let filed = if registrar.is_empty() {
            "no registrar".to_string()
        } else {
            format!("registrar {registrar:?}")
        };
        Notice::new(
            if live {
                Severity::Warning
            } else {
                Severity::Info
            },
            Code::RegistrarMismatch,
            format!("WHMCS row #{row} files this domain under {filed}, not Openprovider"),
        )
    }

    /// A run's own notice of what its host found broken in its setup (the host's words).
    pub(crate) fn setup_problem(message: &str) -> Notice {
        Notice::new(Severity::Error, Code::SetupProblem, message.to_string())
    }

    /// The run's own notice when the mass-change brake holds it.
    pub(crate) fn mass_change_held(changed: u64, rows: u64, percent: u32, min_rows: u64) -> Notice {
        Notice::new(
            Severity::Error,
            Code::MassChangeHeld,
            format!(
                "the mass-change brake held this run: {changed} of {rows} rows would change, \
                 more than {min_rows} rows and more than {percent}% of the rows ({}). Nothing \
                 was written. If the changes are right, release one run explicitly",
                rows.saturating_mul(u64::from(percent)) / 100
            ),
        )
    }

    pub(crate) fn not_modifiable(what: &str, op_status: Option<&str>) -> Notice {
        Notice::new(
            Severity::Info,
            Code::NotModifiable,
            format!(
                "{what} not changed: Openprovider accepts changes only while the domain is ACT, \
                 and it is {}",
                op_status.unwrap_or("without a status")
            ),
        )
    }

    pub(crate) fn not_in_openprovider(live: bool) -> Notice {
        Notice::new(
            severity_for_missing(live),
            Code::NotInOpenprovider,
            "Not found in the Openprovider account",
        )
    }

    pub(crate) fn lookup_failed(live: bool, message: &str) -> Notice {
        let message = if message.is_empty() {
            "The Openprovider look-up failed".to_string()
        } else {
            format!("The Openprovider look-up failed: {message}")
        };
        Notice::new(severity_for_missing(live), Code::LookupFailed, message)
    }

    pub(crate) fn not_checked(live: bool) -> Notice {
        Notice::new(
            severity_for_missing(live),
            Code::NotChecked,
            "Not checked: this run did not read the domain from Openprovider",
        )
    }

    pub(crate) fn invalid_record(defects: &[String]) -> Notice {
        Notice::new(
            Severity::Error,
            Code::InvalidRecord,
            format!("The WHMCS row was left alone: {}", defects.join("; ")),
        )
    }

    pub(crate) fn duplicate_domain(live: bool, kept_id: u64) -> Notice {
        Notice::new(
            if live {
                Severity::Warning
            } else {
                Severity::Info
            },
            Code::DuplicateDomain,
            format!(
                "Another WHMCS row (#{kept_id}) holds the same domain and is the one kept in sync"
            ),
        )
    }
}

fn severity_for_missing(expects_record: bool) -> Severity {
    if expects_record {
        Severity::Error
    } else {
        Severity::Info
    }
}
