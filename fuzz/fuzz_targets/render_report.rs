//! `render_report` on any bytes (what the raw ABI's `render_report` export runs): a
//! report or a one-line error, never a panic; a report's HTML escapes what it shows.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match opsync_engine::render_report_json(data) {
        Ok(report) => {
            let report: serde_json::Value =
                serde_json::from_slice(&report).expect("the report is JSON");
            let html = report["html"].as_str().expect("html");
            assert!(!html.contains("<script"), "unescaped markup in the report");
            assert!(!html.contains('\0'), "a NUL in the report");
        }
        Err(e) => {
            let line = e.to_string();
            assert!(!line.contains('\n'), "one line: {line}");
        }
    }
});
