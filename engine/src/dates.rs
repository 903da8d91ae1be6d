//! Dates as each side writes them. Parsing is chrono's; this module only says which forms
//! are accepted and what "unknown" looks like.
//!
//! - WHMCS: `YYYY-MM-DD`; `0000-00-00`, `""` and null are unknown, and so is anything
//!   unparseable (the row's other fields still count).
//! - Openprovider: `YYYY-MM-DD HH:MM:SS` (the hour may have one digit) or `YYYY-MM-DD`;
//!   `0000-00-00 00:00:00` and `""` are unset. The calendar day is taken as written: no
//!   time-zone conversion, ever (converting shifted dates by a day in the old cron).

use chrono::format::{parse, Item, Numeric, Pad, Parsed};
use chrono::{Datelike, NaiveDate};

use crate::wire::Scalar;

/// An Openprovider date field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpDate {
    /// The field is absent or null.
    Missing,
    /// Openprovider's way of saying "no date": `""` or all zeros.
    Unset,
    /// Present but not a date; keeps the raw JSON for the notice.
    Invalid(String),
    Date(NaiveDate),
}

/// A WHMCS date column; `None` when unknown.
pub(crate) fn whmcs_date(value: Option<&Scalar>) -> Option<NaiveDate> {
    match value {
        Some(Scalar::Str(s)) => parse_day(s),
        _ => None,
    }
}

pub(crate) fn op_date(value: Option<&Scalar>) -> OpDate {
    match value {
        None | Some(Scalar::Null) => OpDate::Missing,
        Some(Scalar::Str(s)) => {
            let (day, time) = match s.split_once(' ') {
                Some((day, time)) => (day, Some(time)),
                None => (s.as_ref(), None),
            };
            if s.is_empty() || (is_zero_day(day) && time.is_none_or(is_zero_time)) {
                return OpDate::Unset;
            }
            let time_ok = time.is_none_or(|t| {
                let mut parsed = Parsed::new();
                parse(&mut parsed, t, TIME.iter()).is_ok() && parsed.to_naive_time().is_ok()
            });
            match parse_day(day) {
                Some(date) if time_ok => OpDate::Date(date),
                _ => OpDate::Invalid(Scalar::Str(s.clone()).to_string()),
            }
        }
        Some(other) => OpDate::Invalid(other.to_string()),
    }
}

// chrono's `%Y-%m-%d` and `%H:%M:%S`, spelt out once instead of parsed from a format
// string on every call (a 100k-row request parses half a million dates).
const DAY: &[Item<'static>] = &[
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Month, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Day, Pad::Zero),
];
const TIME: &[Item<'static>] = &[
    Item::Numeric(Numeric::Hour, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Minute, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Second, Pad::Zero),
];

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
    let mut parsed = Parsed::new();
    parse(&mut parsed, s, DAY.iter()).ok()?;
    parsed.to_naive_date().ok().filter(|d| d.year() >= 1)
}

fn is_zero_day(day: &str) -> bool {
    day == "0000-00-00"
}

fn is_zero_time(time: &str) -> bool {
    time.bytes().all(|c| c == b'0' || c == b':')
}

/// The form both sides of the response use: `YYYY-MM-DD`.
pub(crate) fn format_day(date: NaiveDate) -> String {
    // `NaiveDate`'s Display is `%Y-%m-%d` for the years `parse_day` accepts.
    date.to_string()
}
