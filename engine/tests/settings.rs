//! The settings' one reading (`run::settings`), as the drop-in meets them in a real WHMCS:
//! the Openprovider module's advanced configuration as module 5.13 ships it
//! (`../shared/DOMAIN.md`, "Inside WHMCS"), the opsync addon's fields over it, and
//! opsync.toml for the native runner.

use opsync_engine::run::settings::{read, Settings};
use opsync_engine::run::Options;
use opsync_engine::ExpirySource;
use serde_json::{json, Value};

/// The sync keys of `advanced-module-configurations.php` as the module ships them.
fn shipped() -> Value {
    json!({
        "api_url": "https://api.openprovider.eu",
        "restapi_url_sandbox": "http://api.sandbox.openprovider.nl:8480",
        "renewTldsUponTransferCompletion": "",
        "syncAutoRenewSetting": true,
        "syncIdentityProtectionToggle": true,
        "syncUseNativeWHMCS": true,
        "syncDomainStatus": true,
        "syncExpiryDate": true,
        "updateNextDueDate": true,
        "nextDueDateOffset": 14,
        "nextDueDateUpdateMaxDayDifference": 100,
        "updateInterval": 2,
        "domainProcessingLimit": 200,
        "sendEmptyActivityEmail": false,
        "renewalDateSync": true,
    })
}

fn drop_in(addon: Value, module: Value, test_mode: &str) -> Value {
    json!({
        "addon": addon,
        "module": module,
        "api": {"username": "reseller", "password": "secret", "test_mode": test_mode},
        "whmcs": {"admin_folder": "admin"},
    })
}

fn settings(raw: &Value) -> Settings {
    read(raw, &Options::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn shown<'a>(s: &'a Settings, key: &str) -> (&'a str, &'a str) {
    let shown = s
        .shown
        .iter()
        .find(|x| x.key == key)
        .unwrap_or_else(|| panic!("{key} is not shown: {:?}", s.shown));
    (shown.value.as_str(), shown.source.as_str())
}

#[test]
fn the_shipped_file_means_what_it_meant_to_the_module() {
    let s = settings(&drop_in(json!({}), shipped(), ""));
    let p = &s.policy;
    assert!(p.sync_status && p.sync_expiry_date);
    assert_eq!(
        p.expiry_source,
        ExpirySource::RenewalDate,
        "renewalDateSync true"
    );
    // syncUseNativeWHMCS true: the module's cron pushed nothing and moved no due dates.
    assert!(!p.sync_auto_renew && !p.sync_whois_privacy && !p.sync_due_date);
    assert_eq!(
        shown(&s, "sync_auto_renew"),
        ("false", "Openprovider module (syncUseNativeWHMCS)")
    );
    assert_eq!(shown(&s, "syncUseNativeWHMCS").0, "true");
    assert_eq!(p.due_date_offset_days, 14);
    assert_eq!(p.due_date_max_shift_days, Some(100));
    assert_eq!(s.batch, Some(200));
    assert_eq!(
        s.min_age_hours, 2,
        "updateInterval: a minimum age, in hours"
    );
    assert_eq!(
        shown(&s, "min_age_hours"),
        ("2", "Openprovider module (updateInterval)")
    );
    assert_eq!(s.cron_interval_hours, 1, "not the module's updateInterval");
    assert_eq!(s.api_url, "https://api.openprovider.eu/v1beta");
}

#[test]
fn sync_use_native_whmcs_false_lets_the_modules_own_switches_speak() {
    let mut module = shipped();
    module["syncUseNativeWHMCS"] = json!(false);
    module["syncIdentityProtectionToggle"] = json!(false);
    let s = settings(&drop_in(json!({}), module, ""));
    assert!(s.policy.sync_auto_renew && s.policy.sync_due_date);
    assert!(!s.policy.sync_whois_privacy);
    assert_eq!(
        shown(&s, "sync_auto_renew"),
        ("true", "Openprovider module (syncAutoRenewSetting)")
    );
}

#[test]
fn the_addons_own_settings_override_sync_use_native_whmcs() {
    let addon =
        json!({"sync_auto_renew": "on", "sync_due_date": "", "sync_whois_privacy": "inherit"});
    let s = settings(&drop_in(addon, shipped(), ""));
    assert!(s.policy.sync_auto_renew, "the addon says on");
    assert_eq!(shown(&s, "sync_auto_renew"), ("true", "opsync addon"));
    assert!(
        !s.policy.sync_due_date && !s.policy.sync_whois_privacy,
        "an empty or inherit field says nothing"
    );
}

#[test]
fn a_negative_offset_puts_the_due_date_after_the_expiry() {
    let mut module = shipped();
    module["nextDueDateOffset"] = json!(-7);
    let s = settings(&drop_in(json!({"sync_due_date": "on"}), module, ""));
    assert_eq!(s.policy.due_date_offset_days, -7);
    let s = settings(&drop_in(
        json!({"due_date_offset_days": "-30"}),
        shipped(),
        "",
    ));
    assert_eq!(s.policy.due_date_offset_days, -30);
    let err = read(
        &drop_in(json!({"due_date_offset_days": "-3651"}), shipped(), ""),
        &Options::default(),
    )
    .unwrap_err();
    assert!(err.0.contains("from -3650 to 3650"), "{err}");
}

#[test]
fn test_mode_uses_the_modules_test_address_and_only_it_may_be_plain_http() {
    let s = settings(&drop_in(json!({}), shipped(), "on"));
    assert_eq!(s.api_url, "http://api.sandbox.openprovider.nl:8480/v1beta");
    assert_eq!(
        shown(&s, "openprovider.base_url").1,
        "Openprovider module (restapi_url_sandbox, test mode)"
    );
    // Live: https only, even when the module's file says otherwise.
    let mut module = shipped();
    module["api_url"] = json!("http://api.openprovider.eu");
    let err = read(&drop_in(json!({}), module, ""), &Options::default()).unwrap_err();
    assert!(err.0.contains("must use https"), "{err}");
    // An address given elsewhere is not the test address, test mode or not.
    let mut raw = drop_in(json!({}), shipped(), "on");
    raw["api"]["base_url"] = json!("http://api.sandbox.openprovider.nl:8480");
    raw["api"]["base_url_source"] = json!("environment OPSYNC_OP_BASE_URL");
    let err = read(&raw, &Options::default()).unwrap_err();
    assert!(err.0.contains("must use https"), "{err}");
}

#[test]
fn the_native_runner_takes_the_renewal_date_unless_its_file_names_a_source() {
    let native = |policy: Value| {
        json!({
            "opsync_toml": {"policy": policy},
            "api": {"username": "reseller", "password": "secret"},
        })
    };
    let s = settings(&native(json!({})));
    assert_eq!(s.policy.expiry_source, ExpirySource::RenewalDate);
    assert_eq!(
        shown(&s, "policy.expiry_source"),
        ("renewal_date", "default")
    );
    let s = settings(&native(json!({"expiry_source": "expiration_date"})));
    assert_eq!(s.policy.expiry_source, ExpirySource::ExpirationDate);
    // The module's syncUseNativeWHMCS means nothing to the native runner.
    assert!(s.policy.sync_auto_renew && s.policy.sync_due_date);
}

#[test]
fn a_minimum_age_applies_to_batched_runs_only() {
    let s = settings(&drop_in(json!({"batch_size": "0"}), shipped(), ""));
    assert_eq!((s.batch, s.min_age_hours), (None, 0));
    let s = settings(&drop_in(json!({"min_age_hours": "6"}), shipped(), ""));
    assert_eq!((s.batch, s.min_age_hours), (Some(200), 6));
}

#[test]
fn the_extensions_the_module_renews_after_a_transfer_are_left_to_it() {
    let shipped_list = settings(&drop_in(json!({}), shipped(), ""));
    assert!(shipped_list.renew_after_transfer.is_empty());
    assert!(
        !shipped_list
            .shown
            .iter()
            .any(|x| x.key == "renewTldsUponTransferCompletion"),
        "an empty list is not shown"
    );

    let mut module = shipped();
    module["renewTldsUponTransferCompletion"] = json!("nl, .EU,, be ");
    let s = settings(&drop_in(json!({}), module, ""));
    assert_eq!(s.renew_after_transfer, ["nl", "eu", "be"]);
    assert_eq!(
        shown(&s, "renewTldsUponTransferCompletion"),
        (
            "nl, eu, be",
            "Openprovider module (renewTldsUponTransferCompletion)"
        )
    );
}

#[test]
fn opsync_toml_holds_exclusions_and_rules_per_extension() {
    let raw = json!({
        "opsync_toml": {
            "policy": {
                "due_date_offset_days": 7,
                "exclude": {"domains": ["Keep-Me.COM"], "extensions": [".co.uk"]},
                "by_extension": {"eu": {"due_date_offset_days": 30, "expiry_source": "expiration_date"}},
            },
        },
        "api": {"username": "reseller", "password": "secret"},
    });
    let s = settings(&raw);
    assert!(s.policy.is_excluded("keep-me.com"));
    assert!(s.policy.is_excluded("shop.co.uk"));
    assert!(!s.policy.is_excluded("shopco.uk"));
    assert_eq!(s.policy.by_extension.len(), 1);
    assert_eq!(
        shown(&s, "policy.exclude"),
        ("domains: keep-me.com; extensions: co.uk", "file")
    );
    assert_eq!(
        shown(&s, "policy.by_extension.eu"),
        (
            "due_date_offset_days = 30, expiry_source = expiration_date",
            "file"
        )
    );

    let mut bad = raw.clone();
    bad["opsync_toml"]["policy"]["by_extension"]["eu"]["protected_statuses"] = json!(["Fraud"]);
    let err = read(&bad, &Options::default()).unwrap_err().0;
    assert_eq!(
        err,
        "opsync.toml: policy.by_extension.eu.protected_statuses: not a per-extension field"
    );
    let mut unknown = raw;
    unknown["opsync_toml"]["policy"]["excludes"] = json!({"domains": []});
    let err = read(&unknown, &Options::default()).unwrap_err().0;
    assert_eq!(err, "opsync.toml: policy.excludes: unknown policy field");
}

#[test]
fn the_addon_holds_exclusions_and_rules_per_extension_as_text() {
    let addon = json!({
        "exclude_domains": "keep-me.com,\nAlso-Me.NL",
        "exclude_extensions": ".co.uk",
        "by_extension": "# per extension\neu: due_date_offset_days = 30, expiry_source = \"renewal_date\"\nuk: sync_auto_renew = no, due_date_max_shift_days = none\n",
    });
    let s = settings(&drop_in(addon.clone(), shipped(), ""));
    assert!(s.policy.is_excluded("also-me.nl") && s.policy.is_excluded("shop.co.uk"));
    assert_eq!(
        shown(&s, "policy.exclude"),
        (
            "domains: keep-me.com, also-me.nl; extensions: co.uk",
            "opsync addon"
        )
    );
    assert_eq!(
        shown(&s, "policy.by_extension.eu"),
        (
            "due_date_offset_days = 30, expiry_source = renewal_date",
            "opsync addon"
        )
    );
    assert_eq!(
        shown(&s, "policy.by_extension.uk").0,
        "due_date_max_shift_days = none, sync_auto_renew = false"
    );

    let mut bad = addon.clone();
    bad["by_extension"] = json!("eu due_date_offset_days = 30");
    let err = read(&drop_in(bad, shipped(), ""), &Options::default())
        .unwrap_err()
        .0;
    assert!(
        err.starts_with(
            "the opsync addon's setting by_extension, line 1: expected the extension, a colon"
        ),
        "{err}"
    );
    let mut wrong = addon;
    wrong["by_extension"] = json!("eu: batch_size = 5");
    let err = read(&drop_in(wrong, shipped(), ""), &Options::default())
        .unwrap_err()
        .0;
    assert_eq!(
        err,
        "the opsync addon's settings: policy.by_extension.eu.batch_size: not a per-extension field"
    );
}
