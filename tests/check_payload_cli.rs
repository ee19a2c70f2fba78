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

#[test]
fn clean_file_exits_0_silently() {
    let file = example("session-valid.json");
    let out = run(&["check-payload", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn three_violations_exit_1_with_three_lines() {
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
                "{name}: error billing_address.given_name: Bad value: billing_address.given_name"
            ),
            format!(
                "{name}: error order_lines[0].total_tax_amount: Bad value: order_lines[0].total_tax_amount"
            ),
            format!("{name}: error purchase_currency: Bad value: purchase_currency"),
        ]
    );
}

#[test]
fn warnings_alone_exit_0() {
    let mut body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example("session-valid.json")).unwrap())
            .unwrap();
    body["locale"] = serde_json::json!("en");
    let out = run(&["check-payload", "-"], Some(body.to_string().as_bytes()));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "-: warning locale: Bad value: locale\n");
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
}

#[test]
fn order_kind_and_stdin() {
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed-create-order-request.json"),
    )
    .unwrap();
    let out = run(&["check-payload", "--kind", "order", "-"], Some(&body));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run(&["check-payload", "--kind", "order", "-"], Some(b"{}"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).lines().count(), 4);
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
