//! `check-payload` end to end, through the built binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/payloads")
        .join(name)
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A file of its own in the target directory, for bodies that are not examples.
fn scratch(name: &str, contents: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("check_payload_cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn valid_session() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(example("session-valid.json")).unwrap()).unwrap()
}

#[test]
fn clean_file_exits_0_with_one_ok_line() {
    let file = example("session-valid.json");
    let name = file.to_str().unwrap();
    let out = run(&["check-payload", name], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{name}: ok (session)\n"));
}

#[test]
fn three_violations_exit_1_with_three_explained_lines() {
    let file = example("session-three-violations.json");
    let name = file.to_str().unwrap();
    let out = run(&["check-payload", name], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "{name}: error billing_address.given_name: Bad value: billing_address.given_name \
                 — \"J\" is one character; a name must be longer than one character \
                 (docs/klarna.md §2.3)"
            ),
            format!(
                "{name}: error order_lines[0].total_tax_amount: Bad value: \
                 order_lines[0].total_tax_amount — total_tax_amount is 1683, but total_amount \
                 − total_amount × 10000 / (10000 + tax_rate) = 9500 − 9500 × 10000 / 12000 ≈ \
                 1583.33, and it must be within ±1 of that: 1583 to 1584 (docs/klarna.md §3.1)"
            ),
            format!(
                "{name}: error purchase_currency: Bad value: purchase_currency — GB takes only \
                 GBP, got EUR: each country takes only its own currency (docs/klarna.md §3.2)"
            ),
        ]
    );
    // Klarna's message stays verbatim before the explanation, for grep.
    for line in lines {
        let (head, _why) = line.split_once(" — ").unwrap();
        let (_, message) = head.split_once(": Bad value: ").unwrap();
        assert!(
            head.ends_with(&format!(" {message}: Bad value: {message}")),
            "{line}"
        );
    }
}

#[test]
fn warnings_alone_exit_0_and_print_the_warnings() {
    let mut body = valid_session();
    body["locale"] = serde_json::json!("en");
    let out = run(&["check-payload", "-"], Some(body.to_string().as_bytes()));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "-: warning locale: Bad value: locale — \"en\" is a language without a country; GB \
         takes en-GB, but the playground accepted language-only locales (\"en\" for US, \"EN\" \
         and \"PL\" for SE), so only a warning (docs/klarna.md §3.2, §10)\n"
    );
}

#[test]
fn line_total_order_amount_and_line_tax_show_their_arithmetic() {
    let mut body = valid_session();
    body["order_lines"][0]["total_amount"] = serde_json::json!(9400);
    let out = run(&["check-payload", "-"], Some(body.to_string().as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).lines().collect::<Vec<_>>(),
        [
            "-: error order_amount: Bad value: order_amount — order_amount is 9995, but the sum \
             of the lines' total_amount is 9400 + 495 = 9895 (docs/klarna.md §3.1)",
            "-: error order_lines[0].total_amount: Bad value: order_lines[0].total_amount — \
             total_amount is 9400, but quantity × unit_price − total_discount_amount = 1 × 10000 \
             − 500 = 9500 (docs/klarna.md §3.1)",
            "-: error order_lines[0].total_tax_amount: Bad value: order_lines[0].total_tax_amount \
             — total_tax_amount is 1583, but total_amount − total_amount × 10000 / (10000 + \
             tax_rate) = 9400 − 9400 × 10000 / 12000 ≈ 1566.67, and it must be within ±1 of \
             that: 1566 to 1567 (docs/klarna.md §3.1)",
        ]
    );
}

#[test]
fn not_json_exits_2_with_line_and_column() {
    let file = scratch("broken.json", "{\n  \"order_amount\": 100,\n  oops\n}\n");
    let out = run(&["check-payload", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("broken.json"), "{stderr}");
    assert!(stderr.contains("line 3, column 3"), "{stderr}");
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn missing_file_exits_2_naming_it() {
    let out = run(&["check-payload", "no-such-payload.json"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no-such-payload.json"), "{stderr}");
    assert!(stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn every_file_is_checked_and_the_worst_outcome_wins() {
    let bad = example("session-three-violations.json");
    let out = run(
        &[
            "check-payload",
            "no-such-payload.json",
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout).lines().count(), 3);

    // A clean file among others gets its ok line, in the order given.
    let good = example("session-valid.json");
    let (good, bad) = (good.to_str().unwrap(), bad.to_str().unwrap());
    let out = run(&["check-payload", good, bad, good], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0], format!("{good}: ok (session)"));
    assert!(
        lines[1..4]
            .iter()
            .all(|l| l.starts_with(&format!("{bad}: error ")))
    );
    assert_eq!(lines[4], format!("{good}: ok (session)"));
}

#[test]
fn order_kind_and_stdin() {
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed-create-order-request.json"),
    )
    .unwrap();
    let out = run(&["check-payload", "--kind", "order", "-"], Some(&body));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "-: ok (order)\n");
    let out = run(&["check-payload", "--kind", "order", "-"], Some(b"{}"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).lines().collect::<Vec<_>>(),
        [
            "-: error order_amount: Bad value: order_amount — is missing; the field is required \
             (docs/klarna.md §2.1)",
            "-: error order_lines: Bad value: order_lines — is missing; the field is required \
             (docs/klarna.md §2.1)",
            "-: error purchase_country: Bad value: purchase_country — is missing; the field is \
             required (docs/klarna.md §2.1)",
            "-: error purchase_currency: Bad value: purchase_currency — is missing; the field is \
             required (docs/klarna.md §2.1)",
        ]
    );
    // Every kind names itself on its ok line.
    let token = br#"{"description": "Shoe club", "intended_use": "SUBSCRIPTION", "locale": "en-GB",
        "purchase_country": "GB", "purchase_currency": "GBP"}"#;
    let out = run(
        &["check-payload", "--kind", "customer-token", "-"],
        Some(token),
    );
    assert_eq!(text(&out.stdout), "-: ok (customer-token)\n");
    let out = run(
        &["check-payload", "--kind", "session-update", "-"],
        Some(b"{}"),
    );
    assert_eq!(text(&out.stdout), "-: ok (session-update)\n");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["check-payload"], None).status.code(), Some(2));
    assert_eq!(
        run(&["check-payload", "--kind", "refund", "x.json"], None)
            .status
            .code(),
        Some(2)
    );
}
