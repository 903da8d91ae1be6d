//! One function per command.

mod check;
mod engine;
mod history;
mod laws;
mod sync;

pub(crate) use check::check;
pub(crate) use engine::{engine_run, verb, version};
pub(crate) use history::history;
pub(crate) use laws::laws;
pub(crate) use sync::{sync, SyncMode};
