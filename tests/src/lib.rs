//! opsync's test parts: the Openprovider [`sandbox`] (also served by `op-sandbox`) and an
//! SMTP sink ([`smtp_sink`]).

pub mod sandbox;
pub mod smtp_sink;
