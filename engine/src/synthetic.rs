//! Synthetic requests for benchmarks: `rows` WHMCS rows, each with its Openprovider
//! domain, one in `drift_every` drifted (expiry renewed, auto-renew flipped). Pure and
//! deterministic, so every face and every run measures the same bytes.

use serde_json::{json, Value};

pub fn request(rows: usize, drift_every: usize) -> Vec<u8> {
    let mut whmcs = Vec::with_capacity(rows);
    let mut domains = Vec::with_capacity(rows);
    for i in 0..rows {
        let drifted = drift_every > 0 && i % drift_every == 0;
        let name = format!("customer-{i:06}");
        let tld = ["com", "nl", "eu", "net", "de"][i % 5];
        let day = 1 + i % 28;
        whmcs.push(json!({
            "id": (i + 1).to_string(),
            "domain": format!("{name}.{tld}"),
            "status": "Active",
            "expirydate": format!("2027-03-{day:02}"),
            "nextduedate": format!("2027-03-{day:02}"),
            "nextinvoicedate": format!("2027-03-{day:02}"),
            "donotrenew": "0",
            "idprotection": if i % 3 == 0 { "1" } else { "0" },
        }));
        let (month, autorenew) = if drifted {
            ("04", "on")
        } else {
            ("03", "default")
        };
        domains.push(json!({
            "id": 1_000_000 + i,
            "domain": {"name": name, "extension": tld},
            "status": "ACT",
            "expiration_date": format!("2027-{month}-{day:02} 00:00:00"),
            "renewal_date": format!("2027-{month}-{day:02} 00:00:00"),
            "autorenew": autorenew,
            "is_private_whois_enabled": i % 3 == 0,
            "is_private_whois_allowed": true,
            "is_deleted": false,
        }));
    }
    // The listing comes back in Openprovider's order, not WHMCS's.
    domains.reverse();
    let request: Value = json!({
        "policy": {"due_date_offset_days": 0},
        "whmcs": whmcs,
        "openprovider": {"complete": true, "domains": domains},
    });
    serde_json::to_vec(&request).unwrap_or_default()
}
