//! opsync's test parts: the Openprovider [`sandbox`] (also served by `op-sandbox`).

pub mod sandbox;
