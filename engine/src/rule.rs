//! What a rule decides about one field: the one result type of every rule module.

use crate::notice::Notice;

#[derive(Debug)]
pub(crate) enum Decision<T> {
    /// The field should become this value (it differs from what it is).
    Set(T),
    /// Nothing to change.
    Keep,
    /// Nothing changes, and the admin should know why.
    Problem(Notice),
}
