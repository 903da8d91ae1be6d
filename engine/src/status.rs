//! Statuses: WHMCS's ten, their classes, and the table that maps Openprovider's status
//! onto them. Openprovider leads the status.

use crate::notice::Notice;
use crate::rule::Decision;

/// The ten statuses of WHMCS's `tbldomains.status` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WhmcsStatus {
    Pending,
    PendingRegistration,
    PendingTransfer,
    Active,
    Grace,
    Redemption,
    Expired,
    Cancelled,
    Fraud,
    TransferredAway,
}

/// Statuses that mean "the same thing" for the sync: a row already in the target's class
/// is left alone (a domain in Grace is not moved to Expired because Openprovider says DEL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusClass {
    Pending,
    Active,
    Expired,
    Cancelled,
    Fraud,
    TransferredAway,
}

impl WhmcsStatus {
    pub const ALL: [WhmcsStatus; 10] = [
        WhmcsStatus::Pending,
        WhmcsStatus::PendingRegistration,
        WhmcsStatus::PendingTransfer,
        WhmcsStatus::Active,
        WhmcsStatus::Grace,
        WhmcsStatus::Redemption,
        WhmcsStatus::Expired,
        WhmcsStatus::Cancelled,
        WhmcsStatus::Fraud,
        WhmcsStatus::TransferredAway,
    ];

    pub const ALL_NAMES: &'static str = "Pending, Pending Registration, Pending Transfer, \
        Active, Grace, Redemption, Expired, Cancelled, Fraud, Transferred Away";

    /// The exact spelling WHMCS stores.
    pub fn as_str(self) -> &'static str {
        match self {
            WhmcsStatus::Pending => "Pending",
            WhmcsStatus::PendingRegistration => "Pending Registration",
            WhmcsStatus::PendingTransfer => "Pending Transfer",
            WhmcsStatus::Active => "Active",
            WhmcsStatus::Grace => "Grace",
            WhmcsStatus::Redemption => "Redemption",
            WhmcsStatus::Expired => "Expired",
            WhmcsStatus::Cancelled => "Cancelled",
            WhmcsStatus::Fraud => "Fraud",
            WhmcsStatus::TransferredAway => "Transferred Away",
        }
    }

    /// Only WHMCS's exact spellings are statuses.
    pub fn parse(s: &str) -> Option<WhmcsStatus> {
        WhmcsStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub(crate) fn class(self) -> StatusClass {
        match self {
            WhmcsStatus::Pending
            | WhmcsStatus::PendingRegistration
            | WhmcsStatus::PendingTransfer => StatusClass::Pending,
            WhmcsStatus::Active => StatusClass::Active,
            WhmcsStatus::Grace | WhmcsStatus::Redemption | WhmcsStatus::Expired => {
                StatusClass::Expired
            }
            WhmcsStatus::Cancelled => StatusClass::Cancelled,
            WhmcsStatus::Fraud => StatusClass::Fraud,
            WhmcsStatus::TransferredAway => StatusClass::TransferredAway,
        }
    }

    /// Live rows are the ones a customer still has: everything but Cancelled,
    /// Transferred Away, Fraud and Expired. Used to pick among duplicate rows.
    pub(crate) fn is_live(self) -> bool {
        !matches!(
            self,
            WhmcsStatus::Cancelled
                | WhmcsStatus::TransferredAway
                | WhmcsStatus::Fraud
                | WhmcsStatus::Expired
        )
    }

    /// Rows whose missing Openprovider record is an error (the customer expects a working
    /// domain); for every other status it is information.
    pub(crate) fn expects_registrar_record(self) -> bool {
        matches!(self.class(), StatusClass::Active | StatusClass::Pending)
    }
}

/// What an Openprovider status means for the WHMCS status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusRule {
    /// WHMCS should show this status, unless it already shows one of its class.
    Becomes(WhmcsStatus),
    /// FAI: the registration request failed; nothing changes, the admin is told.
    RequestFailed,
}

/// The contract's status table. Codes not listed are unknown: never guessed at.
const STATUS_TABLE: &[(&str, StatusRule)] = &[
    ("ACT", StatusRule::Becomes(WhmcsStatus::Active)),
    ("DEL", StatusRule::Becomes(WhmcsStatus::Expired)),
    ("PEN", StatusRule::Becomes(WhmcsStatus::Pending)),
    ("REQ", StatusRule::Becomes(WhmcsStatus::Pending)),
    ("RRQ", StatusRule::Becomes(WhmcsStatus::Pending)),
    ("SCH", StatusRule::Becomes(WhmcsStatus::Pending)),
    ("FAI", StatusRule::RequestFailed),
];

fn rule_for(op_status: &str) -> Option<StatusRule> {
    STATUS_TABLE
        .iter()
        .find(|(code, _)| *code == op_status)
        .map(|(_, rule)| *rule)
}

/// The status decision: the new WHMCS status, if it changes, or a notice.
pub(crate) fn decide(current: WhmcsStatus, op_status: Option<&str>) -> Decision<WhmcsStatus> {
    let code = op_status.unwrap_or("");
    match rule_for(code) {
        Some(StatusRule::Becomes(target)) if target.class() == current.class() => Decision::Keep,
        Some(StatusRule::Becomes(target)) => Decision::Set(target),
        Some(StatusRule::RequestFailed) => Decision::Problem(Notice::request_failed()),
        None => Decision::Problem(Notice::unknown_status(op_status)),
    }
}
