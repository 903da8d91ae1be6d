//! Due date: `nextduedate` follows the expiry, `due_date_offset_days` earlier, and
//! `nextinvoicedate` moves with it.
//!
//! The target is the expiry *after* this run's decision. An unknown due date is set; a
//! known one moves only within `due_date_max_shift_days`: moving a due date a year forward
//! would skip an invoice the customer owes, so a larger move is reported, not made.

use chrono::{Days, NaiveDate};

use crate::notice::Notice;
use crate::policy::Policy;
use crate::rule::Decision;

pub(crate) fn decide(
    expiry: Option<NaiveDate>,
    current: Option<NaiveDate>,
    policy: &Policy,
) -> Decision<NaiveDate> {
    // No expiry known: no target. An offset that leaves the calendar: no target either.
    // A negative offset puts the due date after the expiry.
    let offset = Days::new(policy.due_date_offset_days.unsigned_abs());
    let target = expiry.and_then(|e| {
        if policy.due_date_offset_days >= 0 {
            e.checked_sub_days(offset)
        } else {
            e.checked_add_days(offset)
        }
    });
    let Some(target) = target else {
        return Decision::Keep;
    };
    match current {
        Some(current) if current == target => Decision::Keep,
        None => Decision::Set(target),
        Some(current) => {
            let shift = (target - current).num_days().abs();
            match policy.due_date_max_shift_days {
                Some(max) if shift > max => Decision::Problem(Notice::due_date_shift_too_large(
                    current, target, shift, max,
                )),
                _ => Decision::Set(target),
            }
        }
    }
}

/// `nextinvoicedate` moves only with `nextduedate`, to the same day (unless it is there).
pub(crate) fn next_invoice_date(
    current: Option<NaiveDate>,
    new_due_date: NaiveDate,
) -> Decision<NaiveDate> {
    if current == Some(new_due_date) {
        Decision::Keep
    } else {
        Decision::Set(new_due_date)
    }
}
