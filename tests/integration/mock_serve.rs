//! The `serve` binary for CI: `--log` lines, safe binding (non-loopback
//! addresses need a password of one's own), `localhost:PORT`, refused
//! credentials, and `--help`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use klarna_conformance::mock::{DEFAULT_PASSWORD, DEFAULT_USERNAME, PASSWORD_ENV, USERNAME_ENV};
use serde_json::{Value, json};

fn serve_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_klarna-conformance"));
    command
        .arg("serve")
        .args(args)
        .env_remove(USERNAME_ENV)
        .env_remove(PASSWORD_ENV)
        .stdin(Stdio::null());
    command
}

/// A started `serve`: its URL and the rest of its standard output.
struct Served {
    child: Child,
    url: String,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Served {
    fn start(mut command: Command) -> Served {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary runs");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("first line {line:?}; stderr {err}");
        };
        Served {
            url: url.to_owned(),
            child,
            stdout,
        }
    }

    /// SIGTERM, then the exit status and what was left on standard output.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        (self.child.wait().unwrap(), rest)
    }
}

async fn get(url: &str, user: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
}

fn log_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// Every line has exactly the documented keys and nothing secret.
fn check_lines(text: &str, password: &str) -> Vec<Value> {
    let lower = text.to_ascii_lowercase();
    for secret in [password, "authorization", "basic "] {
        assert!(
            !lower.contains(&secret.to_ascii_lowercase()),
            "{secret} in {text}"
        );
    }
    let lines = log_lines(text);
    for line in &lines {
        let mut keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "correlation_id",
                "latency_ms",
                "method",
                "path",
                "scope",
                "status",
                "ts"
            ],
            "{line}"
        );
        assert!(line["ts"].as_str().unwrap().ends_with('Z'));
    }
    lines
}

#[tokio::test]
async fn the_log_has_one_line_per_request_and_no_credentials() {
    let dir = std::env::temp_dir().join(format!("klarna-serve-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("requests.jsonl");
    let (user, password) = ("shop", "pw-that-must-not-leak");
    let served = Served::start(serve_command(&[
        "--addr",
        "127.0.0.1:0",
        "--username",
        user,
        "--password",
        password,
        "--log",
        path.to_str().unwrap(),
    ]));
    let clock = format!("{}/__mock/clock?x=secret-query", served.url);
    assert_eq!(get(&clock, user, password).await.status(), 200);
    assert_eq!(get(&clock, "shop+ci-7", password).await.status(), 200);
    assert_eq!(get(&clock, user, "wrong-guess").await.status(), 401);
    let health = format!("{}/__mock/health", served.url);
    assert_eq!(reqwest::get(&health).await.unwrap().status(), 200);
    let (status, _) = served.stop();
    assert!(status.success(), "{status:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("secret-query") && !text.contains("wrong-guess"),
        "{text}"
    );
    let lines = check_lines(&text, password);
    let shape: Vec<(Value, Value, Value)> = lines
        .iter()
        .map(|l| (l["scope"].clone(), l["path"].clone(), l["status"].clone()))
        .collect();
    assert_eq!(
        shape,
        [
            (json!(""), json!("/__mock/clock"), json!(200)),
            (json!("ci-7"), json!("/__mock/clock"), json!(200)),
            (Value::Null, json!("/__mock/clock"), json!(401)),
            (Value::Null, json!("/__mock/health"), json!(200)),
        ]
    );
    assert!(lines[0]["correlation_id"].is_string());
    assert!(lines[3]["correlation_id"].is_null());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_log_can_follow_the_listening_line_on_stdout() {
    let served = Served::start(serve_command(&["--addr", "127.0.0.1:0", "--log", "-"]));
    let url = format!("{}/__mock/clock", served.url);
    assert_eq!(
        get(&url, DEFAULT_USERNAME, DEFAULT_PASSWORD).await.status(),
        200
    );
    let (status, rest) = served.stop();
    assert!(status.success());
    let lines = check_lines(&rest, DEFAULT_PASSWORD);
    assert_eq!(lines.len(), 1, "{rest}");
    assert_eq!(lines[0]["method"], "GET");
}

#[test]
fn a_non_loopback_address_needs_a_password_of_ones_own() {
    let out = serve_command(&["--addr", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for flag in [
        "--password",
        PASSWORD_ENV,
        "--allow-default-credentials",
        "loopback",
    ] {
        assert!(err.contains(flag), "{flag} not in {err}");
    }
    assert!(out.stdout.is_empty());
    // The same password set explicitly is still the published one.
    let out = serve_command(&["--addr", "0.0.0.0:0", "--password", DEFAULT_PASSWORD])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn empty_credentials_are_refused() {
    for args in [
        &["--username", ""][..],
        &["--password", ""],
        &["--username", "a:b"],
    ] {
        let out = serve_command(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("username"), "{err}");
    }
    let out = serve_command(&[]).env(USERNAME_ENV, "").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// One worker thread and no journal: the mock answers as ever, lists nothing.
#[tokio::test]
async fn one_thread_and_no_journal_serve_as_ever() {
    let served = Served::start(serve_command(&[
        "--addr",
        "127.0.0.1:0",
        "--threads",
        "1",
        "--journal-limit",
        "0",
    ]));
    let created = reqwest::Client::new()
        .post(format!("{}/payments/v1/sessions", served.url))
        .basic_auth(DEFAULT_USERNAME, Some(DEFAULT_PASSWORD))
        .json(&crate::mock_common::session_body())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let listed = get(
        &format!("{}/__mock/requests", served.url),
        DEFAULT_USERNAME,
        DEFAULT_PASSWORD,
    )
    .await;
    assert_eq!(listed.json::<Value>().await.unwrap(), json!([]));
    let (status, _) = served.stop();
    assert!(status.success());
}

#[tokio::test]
async fn localhost_is_resolved() {
    let served = Served::start(serve_command(&["--addr", "localhost:0"]));
    let url = format!("{}/__mock/health", served.url);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    let (status, _) = served.stop();
    assert!(status.success());
    // No port: refused before any name lookup.
    let out = serve_command(&["--addr", "localhost"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--addr"));
}

#[test]
fn help_shows_env_names_without_a_stray_equals_sign() {
    let out = serve_command(&["--help"])
        .env(USERNAME_ENV, "set-user")
        .env(PASSWORD_ENV, "set-password")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for name in [USERNAME_ENV, PASSWORD_ENV] {
        assert!(help.contains(&format!("[env: {name}]")), "{help}");
        assert!(!help.contains(&format!("{name}=")), "{help}");
    }
    assert!(
        !help.contains("set-user") && !help.contains("set-password"),
        "{help}"
    );
}
