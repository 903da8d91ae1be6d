//! `lookup_names`: the names a host looks up at Openprovider, as the engine pairs them.
//! Hosts that cannot link the engine (PHP) ask it this way, so its answer is exact.

use opsync_engine::lookup_names_json;

fn answer(input: &str) -> Result<String, String> {
    lookup_names_json(input.as_bytes())
        .map(|bytes| String::from_utf8(bytes).unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn names_come_back_in_the_form_the_engine_pairs_in() {
    assert_eq!(
        answer(r#"[" Example.COM. ", "bücher.de", "xn--bcher-kva.de", "bad name.com", ""]"#),
        Ok("[\n  \"example.com\",\n  \"xn--bcher-kva.de\",\n  \"xn--bcher-kva.de\",\n  null,\n  null\n]"
            .to_string()),
        "one answer per name, in order; null for a name that is no domain name"
    );
}

#[test]
fn no_names_is_an_empty_answer() {
    assert_eq!(answer("[]"), Ok("[]".to_string()));
}

#[test]
fn input_that_is_no_list_of_names_names_the_problem() {
    assert_eq!(
        answer(r#"{"names": ["a.com"]}"#)
            .unwrap_err()
            .split(" (")
            .next(),
        Some("names: expected an array of domain names")
    );
    assert_eq!(
        answer(r#"["a.com", 7]"#),
        Err("names[1]: expected a string".to_string())
    );
}
