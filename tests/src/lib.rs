//! opsync's test parts: the Openprovider [`sandbox`] (also served by `op-sandbox`) and an
//! SMTP sink ([`smtp_sink`]), and throwaway WHMCS databases ([`whmcs_db`]).

pub mod sandbox;
pub mod smtp_sink;
pub mod whmcs_db;
