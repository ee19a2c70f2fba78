//! The file format's error messages: every inconsistency names the path, the
//! line and column, and what is wrong.

use std::path::Path;

use super::*;
use crate::targets::TargetKind;

fn shared() -> FixtureSet {
    toml::from_str(
        r#"
        [cart.de_two_items]
        lines = [
          { name = "Laufschuh", unit_price = 11900, tax_rate = 1900 },
          { name = "Laufsocken", quantity = 2, unit_price = 1190, tax_rate = 1900 },
        ]
        "#,
    )
    .unwrap()
}

fn error(text: &str) -> String {
    parse(Path::new("scenarios/x.toml"), text, &shared())
        .map(|_| "parsed".to_owned())
        .unwrap_or_else(|e| e.to_string())
}

const HEAD: &str = "description = \"d\"\ntargets = [\"mock\"]\n";

#[test]
fn bad_toml_gives_path_line_and_column() {
    let e = error("description = \"d\"\ntargets = [\"mock\"\n[[step]]\n");
    assert!(e.starts_with("scenarios/x.toml:3:1: "), "{e}");
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"create_session\"\nmarket = DE\n"
    ));
    assert!(e.starts_with("scenarios/x.toml:5:10: "), "{e}");
}

#[test]
fn unknown_step_kind_and_unknown_field() {
    let e = error(&format!("{HEAD}\n[[step]]\ndo = \"create_sesion\"\n"));
    assert!(
        e.starts_with("scenarios/x.toml:5:6: unknown step kind `create_sesion` (known: create_session, authorize,"),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"create_session\"\nmarkt = \"DE\"\n"
    ));
    assert!(
        e.starts_with("scenarios/x.toml:5:1: unknown field `markt`"),
        "{e}"
    );
    let e = error(&format!("{HEAD}[[step]]\ndo = \"advance_clock\"\n"));
    assert!(e.contains("`advance_clock` needs `seconds`"), "{e}");
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"advance_clock\"\nseconds = 5\ntoken = \"x\"\n"
    ));
    assert!(
        e.contains("`token` does not apply to `advance_clock` (it takes: seconds)"),
        "{e}"
    );
    let e = error("description = \"d\"\n[[step]]\ndo = \"raw\"\n");
    assert!(e.contains("missing field `targets`"), "{e}");
}

#[test]
fn unknown_fixture_names_the_known_ones() {
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"create_session\"\nmarket = \"DE\"\ncart = \"de_2\"\n"
    ));
    assert!(
        e.starts_with("scenarios/x.toml:6:8: unknown cart fixture `de_2` (known: de_two_items)"),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"create_session\"\nmarket = \"DE\"\n[[step]]\ndo = \"authorize\"\nbilling_address = \"sample_xx\"\n"
    ));
    assert!(
        e.contains(":8:19: unknown address fixture `sample_xx`"),
        "{e}"
    );
    assert!(e.contains("sample_us"), "{e}");
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"create_session\"\nmarket = \"XX\"\n"
    ));
    assert!(e.contains(":5:10: unknown market `XX`"), "{e}");
}

#[test]
fn references_must_be_defined_by_an_earlier_step() {
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"create_session\"\nmarket = \"DE\"\n\n[[step]]\ndo = \"create_order\"\ntoken = \"{{first_token}}\"\n"
    ));
    assert!(e.starts_with("scenarios/x.toml:7:"), "{e}");
    assert!(
        e.contains("step 2 refers to `{first_token}`, which no earlier step defines (defined: client_token, session_id)"),
        "{e}"
    );
    // A step expected to fail defines nothing.
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"create_session\"\nexpect = {{ status = 400 }}\n[[step]]\ndo = \"read_session\"\n"
    ));
    assert!(e.contains("refers to `{session_id}`"), "{e}");
    // `authorize` needs a session.
    let e = error(&format!("{HEAD}[[step]]\ndo = \"authorize\"\n"));
    assert!(e.contains("refers to `{session_id}`"), "{e}");
}

#[test]
fn targets_and_control_api() {
    let e = error(
        "description = \"d\"\ntargets = [\"mock\", \"staging\"]\n[[step]]\ndo = \"raw\"\nmethod = \"GET\"\npath = \"/\"\n",
    );
    assert!(
        e.starts_with("scenarios/x.toml:2:20: unknown target `staging`"),
        "{e}"
    );
    let e = error(
        "description = \"d\"\ntargets = [\"playground\"]\n[[step]]\ndo = \"create_session\"\n[[step]]\ndo = \"authorize\"\n",
    );
    assert!(
        e.contains(":6:6: `authorize` needs the mock's control API"),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"mutate\"\nexpect = {{ status = 200 }}\n"
    ));
    assert!(
        e.contains("`mutate` sends nothing, so `expect` does not apply"),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"raw\"\nmethod = \"PUT\"\npath = \"/x\"\n"
    ));
    assert!(e.contains("unsupported method `PUT`"), "{e}");
    let e = error(&format!(
        "{HEAD}[[step]]\ndo = \"raw\"\nmethod = \"GET\"\npath = \"/\"\ncredentials = \"none\"\n"
    ));
    assert!(e.contains("`credentials` can only be \"wrong\""), "{e}");
}

#[test]
fn a_scenario_reads_as_written() {
    let s = parse(
        Path::new("scenarios/changed_postal_code.toml"),
        r#"
description = "d"
targets = ["mock", "url"]
[mock]
allow_cart_updates = true

[[step]]
do = "create_session"
market = "DE"
cart = "de_two_items"
set = { merchant_urls.confirmation = "https://shop.example/{session.id}" }

[[step]]
do = "authorize"
billing_address = "sample_de"
save = { first = "authorization_token" }

[[step]]
do = "mutate"
set = { "billing_address.postal_code" = "10179" }

[[step]]
do = "create_order"
token = "{first}"
snapshot = true
[step.expect]
status = 409
messages = ["Not matching fields: [billing_address.postal_code]"]
"#,
        &shared(),
    )
    .unwrap();
    assert_eq!(s.stem, "changed_postal_code");
    assert_eq!(s.targets, vec![TargetKind::Mock, TargetKind::Url]);
    assert!(s.mock.allow_cart_updates);
    assert_eq!(s.steps.len(), 4);
    assert_eq!(s.steps[3].line, 22);
    let Action::CreateSession { body } = &s.steps[0].action else {
        panic!("not create_session");
    };
    assert_eq!(body["purchase_currency"], "EUR");
    assert_eq!(body["order_amount"], 14280);
    assert_eq!(body["order_tax_amount"], 2280);
    assert_eq!(
        body["merchant_urls"]["confirmation"],
        "https://shop.example/{session.id}"
    );
    let Action::Authorize { body: Some(a) } = &s.steps[1].action else {
        panic!("not authorize");
    };
    assert_eq!(a["billing_address"]["city"], "Berlin");
    assert!(matches!(&s.steps[3].action, Action::CreateOrder { token, .. } if token == "{first}"));
    assert_eq!(s.steps[3].expect.status, Some(409));
    assert!(s.steps[3].snapshot);
}

#[test]
fn the_shipped_scenarios_all_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let loaded = load_dir(&dir).unwrap();
    assert!(loaded.len() >= 20);
    for s in loaded {
        s.unwrap();
    }
}
