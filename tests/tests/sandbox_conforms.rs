//! The sandbox speaks Openprovider's own description: its answers are checked field by
//! field against the Swagger definitions in `openprovider-api/` (shared design documents),
//! and its filters and refusals behave as `DOMAIN.md` says.

use std::path::PathBuf;

use opsync_testkit::sandbox::{
    generated_domains, Faults, Sandbox, Seed, INVALID_PARAMETER, LIST_ORDER_BY_FIELDS,
    LIST_QUERY_KEYS,
};
use serde_json::{json, Value};

/// The shared design documents: `../shared` next to the checkout, or `OPSYNC_SHARED`.
fn shared(file: &str) -> PathBuf {
    std::env::var_os("OPSYNC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join(file)
}

/// The shared API description.
fn spec(file: &str) -> Value {
    let path = shared("openprovider-api").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (set OPSYNC_SHARED to the shared documents)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// Checks `value` against a Swagger 2.0 schema: every field the sandbox sends must be
/// defined, with the defined type. Returns the problems, with their paths.
fn conform(value: &Value, schema: &Value, defs: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/definitions/");
        return conform(value, &defs[name], defs, path, problems);
    }
    let ty = schema["type"]
        .as_str()
        .unwrap_or(if schema["properties"].is_object() {
            "object"
        } else {
            ""
        });
    let ok = match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    };
    if !ok {
        problems.push(format!("{path}: expected {ty}, found {value}"));
        return;
    }
    match value {
        Value::Object(map) if schema["properties"].is_object() => {
            for (key, v) in map {
                match schema["properties"].get(key) {
                    Some(s) => conform(v, s, defs, &format!("{path}.{key}"), problems),
                    None => problems.push(format!("{path}.{key}: not in the definition")),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                conform(v, &schema["items"], defs, &format!("{path}[{i}]"), problems);
            }
        }
        _ => {}
    }
}

async fn get(sandbox: &Sandbox, token: &str, path_and_query: &str) -> (u16, Value) {
    send(sandbox, "GET", token, path_and_query, None).await
}

async fn send(
    sandbox: &Sandbox,
    method: &str,
    token: &str,
    path_and_query: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path_and_query}", sandbox.base_url());
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn login(sandbox: &Sandbox) -> (u16, Value) {
    send(
        sandbox,
        "POST",
        "",
        "/auth/login",
        Some(json!({"username": sandbox.username(), "password": sandbox.password()})),
    )
    .await
}

#[tokio::test]
async fn answers_match_openproviders_definitions() {
    let domain_spec = spec("domain.swagger.json");
    let auth_spec = spec("auth.swagger.json");
    let sandbox = Sandbox::start(Seed::new(generated_domains(3)), 0)
        .await
        .unwrap();

    let (status, answer) = login(&sandbox).await;
    assert_eq!(status, 200);
    let mut problems = Vec::new();
    conform(
        &answer,
        &json!({"$ref": "#/definitions/authLoginResponse"}),
        &auth_spec["definitions"],
        "login",
        &mut problems,
    );
    let token = answer["data"]["token"].as_str().unwrap().to_string();

    let defs = &domain_spec["definitions"];
    let (_, list) = get(&sandbox, &token, "/domains?limit=2").await;
    conform(
        &list,
        &json!({"$ref": "#/definitions/domainListDomainsResponse"}),
        defs,
        "list",
        &mut problems,
    );
    let (_, one) = get(&sandbox, &token, "/domains/1").await;
    conform(
        &one,
        &json!({"$ref": "#/definitions/domainGetDomainResponse"}),
        defs,
        "get",
        &mut problems,
    );
    let (_, updated) = send(
        &sandbox,
        "PUT",
        &token,
        "/domains/1",
        Some(json!({"autorenew": "off"})),
    )
    .await;
    conform(
        &updated,
        &json!({"$ref": "#/definitions/domainUpdateDomainResponse"}),
        defs,
        "update",
        &mut problems,
    );
    let (_, refused) = send(
        &sandbox,
        "PUT",
        &token,
        "/domains/1",
        Some(json!({"autorenew": "maybe"})),
    )
    .await;
    conform(
        &refused,
        &json!({"$ref": "#/definitions/errorError"}),
        defs,
        "error",
        &mut problems,
    );

    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(list["data"]["total"], json!(3));
    assert_eq!(list["data"]["results"].as_array().unwrap().len(), 2);
    assert_eq!(updated["data"], json!({"id": 1, "status": "ACT"}));
    assert_eq!(refused["code"], json!(347));
}

#[tokio::test]
async fn requests_are_checked_against_the_update_definition() {
    // What the client sends in a PUT must be fields of domainUpdateDomainRequest.
    let domain_spec = spec("domain.swagger.json");
    let defs = &domain_spec["definitions"];
    let mut problems = Vec::new();
    for body in [
        json!({"autorenew": "default"}),
        json!({"is_private_whois_enabled": true}),
    ] {
        conform(
            &body,
            &json!({"$ref": "#/definitions/domainUpdateDomainRequest"}),
            defs,
            "put",
            &mut problems,
        );
    }
    let auth_spec = spec("auth.swagger.json");
    conform(
        &json!({"username": "u", "password": "p"}),
        &json!({"$ref": "#/definitions/authLoginRequest"}),
        &auth_spec["definitions"],
        "login",
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn listing_filters_behave_as_documented() {
    let mut domains = generated_domains(12);
    domains[3]["status"] = json!("DEL");
    domains[4]["is_deleted"] = json!(true);
    let sandbox = Sandbox::start(Seed::new(domains), 0).await.unwrap();
    let (_, answer) = login(&sandbox).await;
    let token = answer["data"]["token"].as_str().unwrap().to_string();
    let ids = |v: &Value| -> Vec<u64> {
        v["data"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_u64().unwrap())
            .collect()
    };

    let (_, v) = get(&sandbox, &token, "/domains?full_name=domain-000002.eu").await;
    assert_eq!(ids(&v), vec![2]);
    let (_, v) = get(
        &sandbox,
        &token,
        "/domains?domain_name_pattern=domain-00001*&extension=com",
    )
    .await;
    assert_eq!(ids(&v), vec![12]);
    let (_, v) = get(
        &sandbox,
        &token,
        "/domains?domain_names=domain-000001.nl&domain_names=DOMAIN-000003.net",
    )
    .await;
    assert_eq!(ids(&v), vec![1, 3]);
    let (_, v) = get(&sandbox, &token, "/domains?id=7").await;
    assert_eq!(ids(&v), vec![7]);
    let (_, v) = get(
        &sandbox,
        &token,
        "/domains?status_not_equal=ACT&with_history=false",
    )
    .await;
    assert_eq!(ids(&v), vec![4]);
    let (_, v) = get(&sandbox, &token, "/domains?status=DEL").await;
    assert_eq!(ids(&v), vec![4]);
    let (_, v) = get(&sandbox, &token, "/domains?is_deleted=true").await;
    assert_eq!(ids(&v), vec![5]);
    let (_, v) = get(
        &sandbox,
        &token,
        "/domains?order_by.id=desc&limit=3&offset=1",
    )
    .await;
    assert_eq!(ids(&v), vec![11, 10, 9]);
    assert_eq!(
        v["data"]["total"],
        json!(11),
        "the deleted domain is not listed"
    );
    // A deleted domain is found by name only when deleted ones are asked for.
    let (_, v) = get(&sandbox, &token, "/domains?domain_names=domain-000005.nl").await;
    assert_eq!(ids(&v), Vec::<u64>::new());
    let (_, v) = get(
        &sandbox,
        &token,
        "/domains?domain_names=domain-000005.nl&domain_names=domain-000006.eu&is_deleted=true",
    )
    .await;
    assert_eq!(ids(&v), vec![5]);
    let (_, v) = get(&sandbox, &token, "/domains?is_deleted=false&limit=1000").await;
    assert_eq!(v["data"]["total"], json!(11));
    let (status, v) = get(&sandbox, &token, "/domains/999").await;
    assert_eq!((status, v["code"].clone()), (500, json!(320)));
    let (status, v) = get(&sandbox, "not-a-token", "/domains").await;
    assert_eq!((status, v["code"].clone()), (401, json!(196)));
}

/// The listing's index (pages in O(page)) answers exactly as looking at every domain does:
/// a filter the index does not serve (`status_not_equal=FAI`, no domain is FAI) takes the
/// full scan, and both must give the same pages and totals; a renamed domain is found by
/// its new name at once.
#[tokio::test]
async fn indexed_pages_are_the_pages_a_full_scan_gives() {
    let mut domains = generated_domains(250);
    for i in [3, 40, 41, 199] {
        domains[i]["is_deleted"] = json!(true);
    }
    let sandbox = Sandbox::start(Seed::new(domains), 0).await.unwrap();
    let (_, answer) = login(&sandbox).await;
    let token = answer["data"]["token"].as_str().unwrap().to_string();
    let mut compared = 0;
    for order in ["", "&order_by.id=asc", "&order_by.id=desc"] {
        for (offset, limit) in [
            (0, 100),
            (100, 100),
            (200, 100),
            (7, 13),
            (245, 10),
            (300, 5),
        ] {
            let query = format!("/domains?offset={offset}&limit={limit}{order}");
            let (_, indexed) = get(&sandbox, &token, &query).await;
            let (_, scanned) =
                get(&sandbox, &token, &format!("{query}&status_not_equal=FAI")).await;
            assert_eq!(indexed["data"], scanned["data"], "{query}");
            assert_eq!(indexed["data"]["total"], json!(246), "{query}");
            compared += 1;
        }
    }
    let names = "/domains?domain_names=domain-000004.com&domain_names=domain-000005.nl&domain_names=DOMAIN-000010.eu&domain_names=none.com";
    let (_, indexed) = get(&sandbox, &token, names).await;
    let (_, scanned) = get(&sandbox, &token, &format!("{names}&status_not_equal=FAI")).await;
    assert_eq!(indexed["data"], scanned["data"]);
    assert_eq!(
        indexed["data"]["total"],
        json!(2),
        "the deleted one is left out: {indexed}"
    );
    assert_eq!(compared, 18);

    sandbox.edit_domain("domain-000010.eu", |d| {
        d["domain"]["name"] = json!("renamed")
    });
    let (_, v) = get(&sandbox, &token, "/domains?domain_names=renamed.eu").await;
    assert_eq!(v["data"]["results"][0]["id"], json!(10), "{v}");
    let (_, v) = get(&sandbox, &token, "/domains?domain_names=domain-000010.eu").await;
    assert_eq!(v["data"]["total"], json!(0), "{v}");
}

/// The backticked words of `DOMAIN.md` between two markers.
fn domain_md_words(from: &str, to: &str) -> Vec<String> {
    let path = shared("DOMAIN.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set OPSYNC_SHARED)", path.display()));
    let start = text
        .find(from)
        .unwrap_or_else(|| panic!("DOMAIN.md: {from:?} not found"));
    let rest = &text[start + from.len()..];
    let end = rest
        .find(to)
        .unwrap_or_else(|| panic!("DOMAIN.md: {to:?} not found"));
    rest[..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_sandbox_knows_the_keys_domain_md_lists_and_the_api_description_names() {
    let keys = domain_md_words("The keys it knows for this call:", "and `order_by.` +");
    let mut sandbox_keys: Vec<String> = LIST_QUERY_KEYS.iter().map(|k| k.to_string()).collect();
    let (mut sorted_doc, mut sorted_sandbox) = (keys.clone(), sandbox_keys.clone());
    sorted_doc.sort();
    sorted_sandbox.sort();
    assert_eq!(sorted_sandbox, sorted_doc);
    let order_by = domain_md_words("`order_by.` +", "The API sits");
    assert_eq!(LIST_ORDER_BY_FIELDS, order_by.as_slice());

    // Every parameter Openprovider's own description gives for the call is among them.
    sandbox_keys.extend(LIST_ORDER_BY_FIELDS.iter().map(|f| format!("order_by.{f}")));
    let described = spec("domain.swagger.json")["paths"]["/v1beta/domains"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .filter(|name| !sandbox_keys.contains(name))
        .collect::<Vec<_>>();
    assert!(described.is_empty(), "described but unknown: {described:?}");
}

#[tokio::test]
async fn keys_and_values_openprovider_refuses_are_refused_with_an_error_envelope() {
    let sandbox = Sandbox::start(Seed::new(generated_domains(3)), 0)
        .await
        .unwrap();
    let (_, answer) = login(&sandbox).await;
    let token = answer["data"]["token"].as_str().unwrap().to_string();
    for (query, named) in [
        ("domain_names[]=domain-000001.nl", "domain_names[]"),
        ("domain_names%5B%5D=domain-000001.nl", "domain_names[]"),
        ("domain_names[0]=domain-000001.nl", "domain_names[0]"),
        ("names=domain-000001.nl", "names"),
        ("status=act", "status"),
        ("status=XYZ", "status"),
        ("status_not_equal=act", "status_not_equal"),
        ("is_deleted=1", "is_deleted"),
        ("is_deleted=yes", "is_deleted"),
        ("with_history=True", "with_history"),
        ("limit=1001", "limit"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("id=abc", "id"),
        ("order_by.id=whatever", "order_by.id"),
        ("order_by.nonsense=asc", "order_by.nonsense"),
        ("limit=5&limit=6", "limit"),
    ] {
        let (status, v) = get(&sandbox, &token, &format!("/domains?{query}")).await;
        assert_eq!(
            (status, v["code"].as_i64()),
            (400, Some(INVALID_PARAMETER)),
            "{query}: {v}"
        );
        let desc = v["desc"].as_str().unwrap();
        assert!(desc.contains(named), "{query}: {desc}");
        assert!(v.get("data").is_none(), "{query}: {v}");
    }
    // Known to Openprovider but not modelled here: refused, saying so, never ignored.
    let (status, v) = get(&sandbox, &token, "/domains?ns_group_pattern=x").await;
    assert_eq!((status, v["code"].as_i64()), (501, Some(INVALID_PARAMETER)));
    assert!(v["desc"].as_str().unwrap().contains("not modelled"), "{v}");
    // Calls that take no query key refuse any.
    let (status, v) = get(&sandbox, &token, "/domains/1?with_history=true").await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (400, Some(INVALID_PARAMETER)),
        "{v}"
    );
    let (status, v) = send(
        &sandbox,
        "PUT",
        &token,
        "/domains/1",
        Some(json!({"autorenew": "on", "name_servers": []})),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (501, Some(INVALID_PARAMETER)),
        "{v}"
    );
    let (status, v) = send(
        &sandbox,
        "PUT",
        &token,
        "/domains/1",
        Some(json!({"is_private_whois_enabled": "yes"})),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (400, Some(INVALID_PARAMETER)),
        "{v}"
    );
    let (status, v) = send(
        &sandbox,
        "POST",
        "",
        "/auth/login",
        Some(json!({"username": sandbox.username(), "password": sandbox.password(), "user": "x"})),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_i64()),
        (400, Some(INVALID_PARAMETER)),
        "{v}"
    );
    // Nothing refused changed anything, and a well-formed call still answers.
    let (status, v) = get(&sandbox, &token, "/domains?domain_names=domain-000001.nl").await;
    assert_eq!((status, v["data"]["total"].clone()), (200, json!(1)));
    assert_eq!(sandbox.domain(1).unwrap()["autorenew"], json!("default"));
}

#[tokio::test]
async fn a_gateway_that_refuses_a_key_or_drops_the_names_can_be_played() {
    let sandbox = Sandbox::start(Seed::new(generated_domains(3)), 0)
        .await
        .unwrap();
    let (_, answer) = login(&sandbox).await;
    let token = answer["data"]["token"].as_str().unwrap().to_string();
    sandbox.set_faults(Faults {
        refuse_keys: vec!["order_by.id".into()],
        ignore_domain_names: true,
        ..Faults::default()
    });
    let (status, v) = get(&sandbox, &token, "/domains?order_by.id=asc").await;
    assert_eq!((status, v["code"].as_i64()), (400, Some(INVALID_PARAMETER)));
    let (_, v) = get(&sandbox, &token, "/domains?domain_names=domain-000001.nl").await;
    assert_eq!(v["data"]["total"], json!(3));
}
