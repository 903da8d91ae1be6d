//! `decide` on any bytes (what the raw ABI's `decide` export runs): an answer or a
//! one-line error, never a panic; an answer is JSON that `render_report` accepts, and
//! deciding the same bytes again gives the same answer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match opsync_engine::decide_json(data) {
        Ok(answer) => {
            let response: serde_json::Value =
                serde_json::from_slice(&answer).expect("the answer is JSON");
            let input = serde_json::to_vec(&serde_json::json!({"response": response}))
                .expect("serialisable");
            opsync_engine::render_report_json(&input).expect("the report of an answer renders");
            assert_eq!(
                opsync_engine::decide_json(data).ok().as_deref(),
                Some(answer.as_slice()),
                "the same bytes, the same answer"
            );
        }
        Err(e) => {
            let line = e.to_string();
            assert!(!line.contains('\n'), "one line: {line}");
        }
    }
});
