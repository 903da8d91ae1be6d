//! Dates as each side writes them. Parsing is chrono's; this module only says which forms
//! are accepted and what "unknown" looks like.
//!
//! - WHMCS: `YYYY-MM-DD`; `0000-00-00`, `""` and null are unknown, and so is anything
//!   unparseable (the row's other fields still count).
//! - Openprovider: `YYYY-MM-DD HH:MM:SS` (the hour may have one digit) or `YYYY-MM-DD`;
//!   `0000-00-00 00:00:00` and `""` are unset. The calendar day is taken as written: no
//!   time-zone conversion, ever (converting shifted dates by a day in the old cron).

use chrono::{Datelike, NaiveDate, NaiveTime};
use serde_json::Value;

/// An Openprovider date field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpDate {
    /// The field is absent or null.
    Missing,
    /// Openprovider's way of saying "no date": `""` or all zeros.
    Unset,
    /// Present but not a date; keeps the raw JSON for the notice.
    Invalid(String),
    Date(NaiveDate),
}

/// A WHMCS date column; `None` when unknown.
pub fn whmcs_date(value: Option<&Value>) -> Option<NaiveDate> {
    match value {
        Some(Value::String(s)) => parse_day(s),
        _ => None,
    }
}

pub fn op_date(value: Option<&Value>) -> OpDate {
    match value {
        None | Some(Value::Null) => OpDate::Missing,
        Some(Value::String(s)) => {
            let (day, time) = match s.split_once(' ') {
                Some((day, time)) => (day, Some(time)),
                None => (s.as_str(), None),
            };
            if s.is_empty() || (is_zero_day(day) && time.is_none_or(is_zero_time)) {
                return OpDate::Unset;
            }
            let time_ok = time.is_none_or(|t| NaiveTime::parse_from_str(t, "%H:%M:%S").is_ok());
            match parse_day(day) {
                Some(date) if time_ok => OpDate::Date(date),
                _ => OpDate::Invalid(Value::String(s.clone()).to_string()),
            }
        }
        Some(other) => OpDate::Invalid(other.to_string()),
    }
}

/// `YYYY-MM-DD` with exactly that many digits, a real calendar day.
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| d.year() >= 1)
}

fn is_zero_day(day: &str) -> bool {
    day == "0000-00-00"
}

fn is_zero_time(time: &str) -> bool {
    time.bytes().all(|c| c == b'0' || c == b':')
}

/// The form both sides of the response use: `YYYY-MM-DD`.
pub fn format_day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}
