//! The laws of CONTRACT.md, one test each, as `opsync_engine::laws` states them: 512
//! generated requests per law, with random policies. `opsync laws` runs the same laws
//! with an operator's own policy.

use opsync_engine::laws::{check, LAWS};

fn holds(name: &str) {
    let law = LAWS
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no law named {name:?}"));
    if let Err(c) = check(law, None, 512) {
        panic!(
            "{} ({}) is broken: {}\nthe smallest input that shows it: {}",
            law.name, law.statement, c.message, c.input
        );
    }
}

macro_rules! laws {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { holds($name) })*

        #[test]
        fn every_law_has_its_test() {
            let tested = [$($name),*];
            for law in LAWS {
                assert!(tested.contains(&law.name), "{} has no test here", law.name);
            }
        }
    };
}

laws! {
    law1_idempotent => "law 1: idempotent",
    law2_each_side_leads_its_own_fields => "law 2: each side leads its own fields",
    law3_writes_only_known_values => "law 3: only known values are written",
    law4_protected_and_unpaired_rows_never_change => "law 4: protected and unpaired rows never change",
    the_summary_is_the_results_counted => "the summary is the results counted",
    the_notices_are_the_rules_findings => "the notices are the rules' findings",
    the_writes_are_the_changes => "the writes are the changes",
    the_brake_holds_all_or_nothing => "the brake holds all or nothing",
    a_deleted_record_takes_no_change => "a deleted record takes no change",
    a_names_spelling_does_not_matter => "a name's spelling does not matter",
    openprovider_order_does_not_matter => "the listing's order does not matter",
    same_request_same_bytes => "deterministic",
    v14_nothing_is_guessed_from_a_partial_listing => "v1.4: nothing is guessed from a partial listing",
    v14_confirmations_follow_the_picture => "v1.4: a confirmation never acts against the request's own picture",
    v14_excluded_rows_never_change => "v1.4: excluded rows never change",
    law5_arbitrary_bytes_never_panic => "law 5: any bytes get an answer or a clean error",
    law5_arbitrary_json_never_panics => "law 5: any JSON gets an answer or a clean error",
}
