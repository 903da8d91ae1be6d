//! One function per command.

mod engine;
mod laws;
mod sync;

pub(crate) use engine::{decide, lookup_names, render_report, version};
pub(crate) use laws::laws;
pub(crate) use sync::{sync, SyncMode};
