//! Auto-renew: WHMCS leads. `donotrenew` off -> Openprovider `autorenew = "default"` (the
//! account's own default decides), on -> `"off"`. Never `"on"`: opsync does not renew a
//! domain on its own account's behalf beyond what the reseller configured.

use crate::rule::Decision;

/// The `autorenew` value Openprovider should hold for a WHMCS `donotrenew` flag.
fn wanted(donotrenew: bool) -> &'static str {
    if donotrenew {
        "off"
    } else {
        "default"
    }
}

/// The new `autorenew`, when it differs from what Openprovider holds. An unknown
/// `donotrenew` pushes nothing: the customer's wish is not known.
pub(crate) fn decide(donotrenew: Option<bool>, current: Option<&str>) -> Decision<&'static str> {
    match donotrenew.map(wanted) {
        Some(wanted) if current != Some(wanted) => Decision::Set(wanted),
        _ => Decision::Keep,
    }
}
