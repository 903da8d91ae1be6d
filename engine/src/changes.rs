//! The response: one result per WHMCS row with the changes for each side, notices, and a
//! summary. Serialised in a fixed field order, so equal requests give equal bytes.
//!
//! Besides the contract's v1 fields, a result carries what a host writes for it, so that
//! no host decides anything: [`WhmcsUpdate`] (the guarded `UPDATE`), [`OpenproviderUpdate`]
//! (the `PUT` body) and [`Activity`] (the `tblactivitylog` lines). Each is absent when there
//! is nothing to write, so a row without changes reads exactly as in v1.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::columns::{Field, OPENPROVIDER_OWNED, WHMCS_OWNED};
use crate::notice::{Notice, Severity};

/// One field's change. `from` is null when the old value was unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: Option<T>,
    pub to: T,
}

impl<T> Change<T> {
    pub fn new(from: Option<T>, to: T) -> Change<T> {
        Change { from, to }
    }
}

/// Changes to a `tbldomains` row. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhmcsChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expirydate: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextduedate: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextinvoicedate: Option<Change<String>>,
}

impl WhmcsChanges {
    pub fn is_empty(&self) -> bool {
        self == &WhmcsChanges::default()
    }

    /// Each change with its field, in [`WHMCS_OWNED`] order.
    pub fn each(&self) -> impl Iterator<Item = (&'static Field, &Change<String>)> {
        let changes = [
            &self.status,
            &self.expirydate,
            &self.nextduedate,
            &self.nextinvoicedate,
        ];
        WHMCS_OWNED
            .iter()
            .zip(changes)
            .filter_map(|(field, change)| Some((field, change.as_ref()?)))
    }
}

/// Changes to an Openprovider domain (one `PUT /domains/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenproviderChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autorenew: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_private_whois_enabled: Option<Change<bool>>,
}

impl OpenproviderChanges {
    pub fn is_empty(&self) -> bool {
        self == &OpenproviderChanges::default()
    }

    /// Each change with its field, in [`OPENPROVIDER_OWNED`] order: the new value as the
    /// API takes it, and both values as an admin reads them (privacy as `on`/`off`).
    pub fn each(&self) -> impl Iterator<Item = (&'static Field, Value, Change<String>)> {
        let word = |b: bool| if b { "on" } else { "off" }.to_string();
        let autorenew = self
            .autorenew
            .as_ref()
            .map(|c| (Value::from(c.to.clone()), c.clone()));
        let privacy = self
            .is_private_whois_enabled
            .as_ref()
            .map(|c| (Value::from(c.to), Change::new(c.from.map(word), word(c.to))));
        OPENPROVIDER_OWNED
            .iter()
            .zip([autorenew, privacy])
            .filter_map(|(field, change)| {
                let (value, shown) = change?;
                Some((field, value, shown))
            })
    }
}

/// The `UPDATE tbldomains` a host runs for a row: `SET` these columns `WHERE` the row has
/// this `id` and every other listed column still holds the value the host read. A row
/// edited meanwhile matches nothing and is reported, never overwritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhmcsUpdate {
    /// Column -> new value.
    pub set: BTreeMap<String, Value>,
    #[serde(rename = "where")]
    pub guard: Guard,
}

/// Which row, in which state: `id` and the columns as the host read them. In JSON one
/// object, `id` first: `{"id": 12, "domain": "example.com", ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    pub id: u64,
    /// Column -> the value the request held for it, as the host sent it (text as text,
    /// `null` as SQL `NULL`).
    pub columns: BTreeMap<String, Value>,
}

impl Serialize for Guard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.columns.len() + 1))?;
        map.serialize_entry("id", &self.id)?;
        for (column, value) in &self.columns {
            map.serialize_entry(column, value)?;
        }
        map.end()
    }
}

// By hand rather than `#[serde(flatten)]`, which buffers every value first: reports read
// thousands of these.
impl<'de> Deserialize<'de> for Guard {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Guard, D::Error> {
        struct GuardVisitor;
        impl<'de> serde::de::Visitor<'de> for GuardVisitor {
            type Value = Guard;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object with an id and the columns as read")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Guard, A::Error> {
                let mut id = None;
                let mut columns = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "id" {
                        id = Some(map.next_value::<u64>()?);
                    } else {
                        columns.insert(key, map.next_value()?);
                    }
                }
                let id = id.ok_or_else(|| serde::de::Error::missing_field("id"))?;
                Ok(Guard { id, columns })
            }
        }
        d.deserialize_map(GuardVisitor)
    }
}

/// The `PUT /domains/{id}` a host sends for a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenproviderUpdate {
    pub id: u64,
    pub body: BTreeMap<String, Value>,
}

/// The `tblactivitylog` lines of a row's changes, per side. A host writes a side's lines
/// only when that side's write went through.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub whmcs: Vec<String>,
    pub openprovider: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowResult {
    pub whmcs_id: u64,
    /// The name as the WHMCS row holds it.
    pub domain: String,
    pub openprovider_id: Option<u64>,
    pub whmcs_changes: WhmcsChanges,
    pub openprovider_changes: OpenproviderChanges,
    pub notices: Vec<Notice>,
    /// What a host writes to WHMCS for this row; absent when nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whmcs_update: Option<WhmcsUpdate>,
    /// What a host sends to Openprovider for this row; absent when nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openprovider_update: Option<OpenproviderUpdate>,
    /// The activity-log lines for this row's changes; absent when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    /// v1.1: the WHMCS changes the mass-change brake held (nothing is written); absent
    /// unless the run was held and this row had some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_whmcs_changes: Option<WhmcsChanges>,
    /// v1.1: the Openprovider changes the mass-change brake held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_openprovider_changes: Option<OpenproviderChanges>,
}

impl RowResult {
    pub(crate) fn unchanged(
        whmcs_id: u64,
        domain: &str,
        openprovider_id: Option<u64>,
    ) -> RowResult {
        RowResult {
            whmcs_id,
            domain: domain.to_string(),
            openprovider_id,
            whmcs_changes: WhmcsChanges::default(),
            openprovider_changes: OpenproviderChanges::default(),
            notices: Vec::new(),
            whmcs_update: None,
            openprovider_update: None,
            activity: None,
            held_whmcs_changes: None,
            held_openprovider_changes: None,
        }
    }

    /// Moves the row's changes to the held fields: nothing of it is to be written.
    pub(crate) fn hold(&mut self) {
        let whmcs = std::mem::take(&mut self.whmcs_changes);
        let openprovider = std::mem::take(&mut self.openprovider_changes);
        self.held_whmcs_changes = (!whmcs.is_empty()).then_some(whmcs);
        self.held_openprovider_changes = (!openprovider.is_empty()).then_some(openprovider);
        self.whmcs_update = None;
        self.openprovider_update = None;
        self.activity = None;
    }

    pub fn is_changed(&self) -> bool {
        !self.whmcs_changes.is_empty() || !self.openprovider_changes.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: u64,
    pub changed_rows: u64,
    pub whmcs_updates: u64,
    pub openprovider_updates: u64,
    pub errors: u64,
    pub warnings: u64,
    /// v1.1: true when the mass-change brake held the run; absent otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
    /// v1.1: the rows that would have changed, when held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_rows: Option<u64>,
    /// v1.4: how many `openprovider_only[]` elements; present when the request carried
    /// `whmcs_other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openprovider_only: Option<u64>,
}

impl Summary {
    pub(crate) fn of(results: &[RowResult]) -> Summary {
        let mut s = Summary {
            rows: results.len() as u64,
            ..Summary::default()
        };
        for r in results {
            s.changed_rows += u64::from(r.is_changed());
            s.whmcs_updates += u64::from(!r.whmcs_changes.is_empty());
            s.openprovider_updates += u64::from(!r.openprovider_changes.is_empty());
            for n in &r.notices {
                match n.severity {
                    Severity::Error => s.errors += 1,
                    Severity::Warning => s.warnings += 1,
                    Severity::Info => {}
                }
            }
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub engine: String,
    pub results: Vec<RowResult>,
    pub summary: Summary,
    /// v1.1: notices about the run as a whole (`mass_change_held`); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
    /// v1.4: Openprovider records no openprovider row of WHMCS pairs with; present when
    /// the request carried `whmcs_other`, empty unless the listing was complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openprovider_only: Option<Vec<OpenproviderOnly>>,
}

/// v1.4: a live Openprovider record that no openprovider row of WHMCS has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenproviderOnly {
    pub openprovider_id: u64,
    /// The full name as Openprovider wrote it.
    pub domain: String,
    pub status: Option<String>,
    /// The `expiry_source` date's day (`YYYY-MM-DD`), null when unset.
    pub expiry: Option<String>,
    pub autorenew: Option<String>,
    /// The other registrar's row that has the name (`registrar_mismatch`), else null.
    pub whmcs_id: Option<u64>,
    pub registrar: Option<String>,
    pub notice: Notice,
}

impl Response {
    /// The canonical bytes: pretty JSON with two-space indents, no trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs of strings, numbers and booleans cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Guard;
    use serde_json::json;

    #[test]
    fn a_guard_is_one_object_id_first_whatever_its_columns() {
        for columns in [
            json!({}),
            json!({"status": "Active"}),
            json!({"status": "Active", "expirydate": null}),
        ] {
            let guard = Guard {
                id: 12,
                columns: serde_json::from_value(columns.clone()).unwrap(),
            };
            let text = serde_json::to_string(&guard).unwrap();
            let mut wanted = json!({"id": 12});
            wanted
                .as_object_mut()
                .unwrap()
                .extend(columns.as_object().unwrap().clone());
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
                wanted,
                "{text}"
            );
            assert!(text.starts_with("{\"id\":12"), "{text}");
            assert_eq!(serde_json::from_str::<Guard>(&text).unwrap(), guard);
        }
    }

    #[test]
    fn a_damaged_guard_says_what_was_expected() {
        let err = serde_json::from_str::<Guard>("5").unwrap_err().to_string();
        assert!(
            err.contains("an object with an id and the columns as read"),
            "{err}"
        );
        let err = serde_json::from_str::<Guard>(r#"{"status": "Active"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `id`"), "{err}");
    }
}
