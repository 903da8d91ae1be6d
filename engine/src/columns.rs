//! The WHMCS columns the engine reads and the fields each side leads, listed once. The
//! request types, the guarded UPDATE, the activity lines and the report all walk these
//! lists, so a field added here reaches every one of them.

/// The `tbldomains` columns a host reads for the engine, each as text (`NULL` as null).
pub const WHMCS_COLUMNS: [&str; 8] = [
    "id",
    "domain",
    "status",
    "expirydate",
    "nextduedate",
    "nextinvoicedate",
    "donotrenew",
    "idprotection",
];

/// A field one side leads, with the words admins read for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The column (WHMCS) or API field (Openprovider).
    pub name: &'static str,
    /// How a `tblactivitylog` line names it.
    pub activity: &'static str,
    /// The report's table for it; `None`: it moves with another field and is not shown.
    pub report: Option<&'static str>,
}

/// The `tbldomains` columns Openprovider leads (the engine writes them), in report order.
pub const WHMCS_OWNED: [Field; 4] = [
    Field {
        name: "status",
        activity: "Status",
        report: Some("Status"),
    },
    Field {
        name: "expirydate",
        activity: "Expiry Date",
        report: Some("Expiry date"),
    },
    Field {
        name: "nextduedate",
        activity: "Next Due Date",
        report: Some("Due date"),
    },
    Field {
        name: "nextinvoicedate",
        activity: "Next Invoice Date",
        report: None,
    },
];

/// The Openprovider domain fields WHMCS leads (the engine sends them in a `PUT`).
pub const OPENPROVIDER_OWNED: [Field; 2] = [
    Field {
        name: "autorenew",
        activity: "Openprovider Auto Renew",
        report: Some("Auto-renew"),
    },
    Field {
        name: "is_private_whois_enabled",
        activity: "Openprovider WHOIS Privacy",
        report: Some("WHOIS privacy"),
    },
];

/// Cleared whenever `expirydate` changes, as WHMCS's own sync does: the reminders sent
/// for the old expiry say nothing about the new one.
pub const REMINDERS: &str = "reminders";
