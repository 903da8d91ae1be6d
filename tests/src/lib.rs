//! opsync's test parts: the Openprovider [`sandbox`] (also served by `op-sandbox`), an
//! SMTP sink ([`smtp_sink`]), throwaway WHMCS databases ([`whmcs_db`]) and the shared
//! decision [`scenarios`], and a simulated world for the run protocol ([`sim`]).

pub mod sandbox;
pub mod scenarios;
pub mod sim;
pub mod smtp_sink;
pub mod whmcs_db;
