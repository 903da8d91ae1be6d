//! Due date: `nextduedate` follows the expiry, `due_date_offset_days` earlier, and
//! `nextinvoicedate` moves with it.
//!
//! The target is the expiry *after* this run's decision. An unknown due date is set; a
//! known one moves only within `due_date_max_shift_days`: moving a due date a year forward
//! would skip an invoice the customer owes, so a larger move is reported, not made.

use chrono::{Days, NaiveDate};

use crate::notice::Notice;
use crate::policy::Policy;

pub enum DueDate {
    Set(NaiveDate),
    Keep,
    Problem(Notice),
}

pub fn decide(expiry: Option<NaiveDate>, current: Option<NaiveDate>, policy: &Policy) -> DueDate {
    // No expiry known: no target. An offset that leaves the calendar: no target either.
    let offset = Days::new(policy.due_date_offset_days.unsigned_abs());
    let Some(target) = expiry.and_then(|e| e.checked_sub_days(offset)) else {
        return DueDate::Keep;
    };
    match current {
        Some(current) if current == target => DueDate::Keep,
        None => DueDate::Set(target),
        Some(current) => {
            let shift = (target - current).num_days().abs();
            match policy.due_date_max_shift_days {
                Some(max) if shift > max => DueDate::Problem(Notice::due_date_shift_too_large(
                    current, target, shift, max,
                )),
                _ => DueDate::Set(target),
            }
        }
    }
}
