//! The report email: what an admin reads after a run.

use opsync_engine::{decide_json, render_report as render, Failure, ReportInput, Response, Side};
use opsync_testkit::scenarios;

fn response_for(scenario: &str) -> Response {
    let bytes = decide_json(&scenarios::named(scenario).request).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn input(response: Response) -> ReportInput {
    ReportInput {
        response,
        dry_run: false,
        send_empty: false,
        failures: Vec::new(),
        tracking: None,
        links: None,
        duration_ms: None,
    }
}

#[test]
fn nothing_changed_and_nothing_failed_sends_nothing() {
    let report = render(&input(response_for("in-sync-nothing-changes")));
    assert!(!report.send);
    assert_eq!(report.subject, "Domain Synchronisation Report: no changes");
}

#[test]
fn send_empty_sends_a_report_on_every_run() {
    let mut i = input(response_for("in-sync-nothing-changes"));
    i.send_empty = true;
    let report = render(&i);
    assert!(report.send);
    assert!(report
        .text
        .contains("Domains checked: 1. Changed: 0. Errors: 0. Warnings: 0."));
}

#[test]
fn info_notices_alone_send_nothing_but_are_counted_when_sent() {
    let quiet = render(&input(response_for(
        "autorenew-not-modifiable-when-not-act",
    )));
    assert!(!quiet.send, "information is no reason to mail anyone");
    let mut i = input(response_for("autorenew-not-modifiable-when-not-act"));
    i.send_empty = true;
    let report = render(&i);
    assert!(
        report
            .text
            .contains("For information, not listed: not_modifiable 3."),
        "{}",
        report.text
    );
}

#[test]
fn errors_come_first_then_each_kind_of_change_with_old_and_new_values() {
    let report = render(&input(response_for("summary-and-order")));
    assert!(report.send);
    assert_eq!(
        report.subject,
        "Domain Synchronisation Report: 2 domains changed, 1 error, 2 warnings"
    );
    let t = &report.text;
    let at = |needle: &str| {
        t.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{t}"))
    };
    assert!(at("Errors (1)") < at("Warnings (2)"));
    assert!(at("Warnings (2)") < at("Expiry date (1)"));
    assert!(at("Expiry date (1)") < at("Auto-renew (1)"));
    assert!(t.contains("d.com   not_in_openprovider"), "{t}");
    assert!(t.contains("a.com   2026-01-01  2027-03-15"), "{t}");
    assert!(t.contains("c.com   default  off"), "{t}");
    assert!(
        !t.contains("Status ("),
        "no status changed, so no status table"
    );
}

#[test]
fn a_failed_side_is_an_error_and_its_changes_are_not_reported_as_made() {
    let mut i = input(response_for("contract-example"));
    i.failures.push(Failure {
        whmcs_id: 12,
        domain: "example.com".into(),
        side: Side::Openprovider,
        message: "Openprovider refused the update (366: action prohibited)".into(),
    });
    let report = render(&i);
    assert!(report.text.contains("Openprovider update failed"));
    assert!(report.text.contains("366: action prohibited"));
    assert!(!report.text.contains("Auto-renew ("), "{}", report.text);
    assert!(!report.text.contains("WHOIS privacy ("));
    assert!(
        report.text.contains("Expiry date (1)"),
        "the WHMCS side was applied"
    );
    assert_eq!(
        report.subject,
        "Domain Synchronisation Report: 1 domain changed, 1 error"
    );
}

#[test]
fn a_row_edited_meanwhile_is_reported_and_nothing_else_of_it() {
    let mut i = input(response_for("contract-example"));
    for side in [Side::Whmcs, Side::Openprovider] {
        i.failures.push(Failure {
            whmcs_id: 12,
            domain: "example.com".into(),
            side,
            message: "skipped".into(),
        });
    }
    let report = render(&i);
    assert!(report.send, "failures are always worth a report");
    assert_eq!(
        report.subject,
        "Domain Synchronisation Report: no changes, 2 errors"
    );
}

#[test]
fn dry_run_says_what_would_change() {
    let mut i = input(response_for("contract-example"));
    i.dry_run = true;
    let report = render(&i);
    assert_eq!(
        report.subject,
        "[dry run] Domain Synchronisation Report: 1 domain would change"
    );
    assert!(report.text.starts_with("Dry run: nothing was written."));
    assert!(report.html.contains("Would change: 1"));
}

#[test]
fn html_escapes_what_came_from_the_database() {
    let mut response = response_for("contract-example");
    response.results[0].domain = "<script>alert('x')</script>&.com".into();
    let report = render(&input(response));
    assert!(report
        .html
        .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;.com"));
    assert!(!report.html.contains("<script>"));
    assert!(
        report.text.contains("<script>"),
        "plain text stays as it is"
    );
}

#[test]
fn unknown_old_values_are_shown_as_unknown() {
    let report = render(&input(response_for("expiry-unknown-in-whmcs-is-set")));
    assert!(
        report.text.contains("zero.com    (unknown)  2027-03-15"),
        "{}",
        report.text
    );
}

#[test]
fn bad_report_input_is_a_clean_error() {
    let err = opsync_engine::render_report_json(br#"{"response": {}}"#).unwrap_err();
    assert!(
        err.to_string().starts_with("report input: missing field"),
        "{err}"
    );
}

#[test]
fn activity_lines_name_each_change_once_per_side() {
    let response = response_for("contract-example");
    let r = &response.results[0];
    let activity = r
        .activity
        .as_ref()
        .expect("a changed row has activity lines");
    assert_eq!(
        activity.whmcs,
        vec![
            "Domain Sync (opsync): Modified Domain - example.com - Expiry Date changed from 2026-05-19 to 2026-05-20 - Domain ID: 12",
            "Domain Sync (opsync): Modified Domain - example.com - Next Due Date changed from 2026-05-09 to 2026-05-10 - Domain ID: 12",
            "Domain Sync (opsync): Modified Domain - example.com - Next Invoice Date changed from 2026-05-09 to 2026-05-10 - Domain ID: 12",
        ]
    );
    assert_eq!(
        activity.openprovider,
        vec![
            "Domain Sync (opsync): Modified Domain - example.com - Openprovider Auto Renew changed from on to default - Domain ID: 12",
            "Domain Sync (opsync): Modified Domain - example.com - Openprovider WHOIS Privacy changed from off to on - Domain ID: 12",
        ]
    );
    let unknown = response_for("expiry-unknown-in-whmcs-is-set");
    assert!(unknown.results[0].activity.as_ref().unwrap().whmcs[0]
        .contains("from (unknown) to 2027-03-15"));
}

#[test]
fn the_opening_line_says_when_nothing_needed_changing() {
    let mut i = input(response_for("in-sync-nothing-changes"));
    i.send_empty = true;
    assert!(render(&i)
        .text
        .starts_with("opsync compared WHMCS with Openprovider; nothing needed changing."));
    i.dry_run = true;
    assert!(render(&i)
        .text
        .starts_with("Dry run: nothing was written, and a sync would change nothing."));
}

#[test]
fn the_json_entry_point_renders_what_the_typed_one_renders() {
    for scenario in [
        "contract-example",
        "summary-and-order",
        "in-sync-nothing-changes",
    ] {
        let mut i = input(response_for(scenario));
        i.dry_run = scenario == "summary-and-order";
        i.send_empty = true;
        i.failures.push(Failure {
            whmcs_id: i.response.results[0].whmcs_id,
            domain: i.response.results[0].domain.clone(),
            side: Side::Openprovider,
            message: "refused".into(),
        });
        let bytes = serde_json::to_vec(&i).unwrap();
        assert_eq!(
            String::from_utf8(opsync_engine::render_report_json(&bytes).unwrap()).unwrap(),
            String::from_utf8(render(&i).to_json()).unwrap(),
            "{scenario}"
        );
    }
}

#[test]
fn a_held_run_says_so_first_and_shows_what_it_would_have_changed() {
    let held = response_for("mass-change-brake-holds-the-run");
    let free = response_for("mass-change-brake-off");
    let report = render(&input(held.clone()));
    assert!(report.send);
    assert_eq!(
        report.subject,
        "[held] Domain Synchronisation Report: 3 domains would change, 1 error, 3 warnings"
    );
    assert!(
        report.text.starts_with(
            "The mass-change brake held this run: nothing was written. These are the changes \
             it would have made; if they are right, release one run explicitly.\n\
             Domains checked: 4. Would change: 3. Errors: 1. Warnings: 3.\n"
        ),
        "{}",
        report.text
    );
    assert!(report.text.contains("(this run)"), "{}", report.text);
    assert!(report.text.contains("mass_change_held"), "{}", report.text);
    assert!(report.html.contains("mass_change_held"));
    // The tables are the ones the run would have made without the brake.
    let unbraked = render(&input(free));
    let tables = |text: &str| text[text.find("Expiry").unwrap()..].to_string();
    assert_eq!(tables(&report.text), tables(&unbraked.text));

    // Read back from bytes (as every face does), the same report.
    let bytes = serde_json::to_vec(&input(held)).unwrap();
    let from_bytes: opsync_engine::Report =
        serde_json::from_slice(&opsync_engine::render_report_json(&bytes).unwrap()).unwrap();
    assert_eq!(from_bytes, report);
}

#[test]
fn control_characters_are_written_out_and_huge_values_cut() {
    let mut i = input(response_for("in-sync-nothing-changes"));
    i.failures.push(Failure {
        whmcs_id: 1,
        domain: format!("nul\0esc\u{1b}[31m{}", "x".repeat(400)),
        side: Side::Whmcs,
        message: "line\nbreak".into(),
    });
    let report = render(&i);
    for shown in [&report.text, &report.html] {
        assert!(
            !shown.contains('\0') && !shown.contains('\u{1b}'),
            "{shown}"
        );
        assert!(shown.contains("nul\\u{0}esc\\u{1b}[31m"), "{shown}");
        assert!(shown.contains("… (412 characters)"), "{shown}");
        assert!(shown.contains("line\\u{a}break"), "{shown}");
    }
}

/// Found by `scripts/fuzz.sh` (render_report): a key holding a line break came back in the
/// error, which then spanned two lines.
#[test]
fn a_bad_report_input_is_one_line_whatever_its_keys_hold() {
    let input =
        b"{\"}u\\noticesuu}uuu{\"response\": {\"engiuuuuuulsne\"\n\n}&\n\n\n: \xe1\xf3\x00, 6\"";
    let error = opsync_engine::render_report_json(input)
        .unwrap_err()
        .to_string();
    assert!(!error.contains('\n'), "{error}");
    assert!(
        error.starts_with("report input: unknown field `}u\\u{a}oticesuu"),
        "{error}"
    );
}

#[test]
fn the_footer_gives_how_long_the_run_took() {
    let without = render(&input(response_for("contract-example")));
    assert!(!without.text.contains("The run took"));
    for (ms, words) in [
        (6_130, "6.1 s"),
        (49, "0.0 s"),
        (59_949, "59.9 s"),
        (59_950, "1 min 0 s"),
        (252_400, "4 min 12 s"),
        (3_599_499, "59 min 59 s"),
        (3_599_500, "1 h 0 min"),
        (3_780_000, "1 h 3 min"),
    ] {
        let mut i = input(response_for("contract-example"));
        i.duration_ms = Some(ms);
        let report = render(&i);
        let line = format!("The run took {words} up to this report.");
        let footer = format!("\n-- \n{}\n{line}\n", opsync_engine::ENGINE);
        assert!(report.text.ends_with(&footer), "{ms} ms: {}", report.text);
        assert!(
            report.html.contains(&format!("<br>{line}</p>")),
            "{}",
            report.html
        );
        // Everything above the footer is the report without the duration.
        assert_eq!(report.text.replace(&format!("{line}\n"), ""), without.text);
        assert_eq!(report.subject, without.subject);
        assert_eq!(report.send, without.send);
    }
}
