//! Auto-renew: WHMCS leads. `donotrenew` off -> Openprovider `autorenew = "default"` (the
//! account's own default decides), on -> `"off"`. Never `"on"`: opsync does not renew a
//! domain on its own account's behalf beyond what the reseller configured.

/// The `autorenew` value Openprovider should hold for a WHMCS `donotrenew` flag.
pub fn wanted(donotrenew: bool) -> &'static str {
    if donotrenew {
        "off"
    } else {
        "default"
    }
}

/// The new `autorenew`, when it differs from what Openprovider holds.
pub fn decide(donotrenew: Option<bool>, current: Option<&str>) -> Option<&'static str> {
    let wanted = wanted(donotrenew?);
    (current != Some(wanted)).then_some(wanted)
}
