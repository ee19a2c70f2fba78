//! `--authorizer CMD`: an external program stands for the browser.
//!
//! The contract (README "Authorizers"): the harness runs `CMD` through
//! `sh -c` once per authorization, writes one JSON object to its stdin
//! ([`Authorization::to_json`]: session id, client token, region, market,
//! category, authorize-time data) and closes it; the program prints the SDK
//! callback's result as one JSON object on stdout and exits 0 within the
//! timeout. Its stderr is passed through to the harness's stderr, so a
//! program can say what it is doing. Anything else (no start, a non-zero
//! exit, a timeout, output that is not a callback result) is an authorizer
//! error: exit 2, never a verdict on Klarna's rules.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::{Authorization, Authorizer, check_result, clip, sdk_exchange};
use crate::client::KlarnaClient;
use crate::exchange::Exchange;
use crate::targets::{BoxFuture, TargetError};

/// An external authorizer program.
#[derive(Debug, Clone)]
pub struct Command {
    command: String,
    timeout: Duration,
}

impl Command {
    /// The default time a program has per authorization: a person or a
    /// browser script clicking through Klarna's widget was given 120 s by the
    /// public test suites that do it (docs/klarna.md §7).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

    pub fn new(command: impl Into<String>, timeout: Duration) -> Command {
        Command {
            command: command.into(),
            timeout,
        }
    }

    fn error(&self, cause: impl Into<String>) -> TargetError {
        TargetError::Authorizer {
            authorizer: self.describe(),
            cause: cause.into(),
        }
    }

    async fn run(&self, a: &Authorization) -> Result<Exchange, TargetError> {
        let mut command = tokio::process::Command::new("sh");
        command
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        // A group of its own: the terminal's Ctrl-C is the harness's (the
        // authorization in flight finishes), and a timeout ends the whole
        // program, not only its shell.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .map_err(|e| self.error(format!("cannot start it: {e}")))?;
        let group = child.id();
        let _listed = group.map(super::groups::started);
        let input = a.to_json().to_string();
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let exchange = async {
            // A program that exits without reading its input is fine: a
            // broken pipe here is not an error, its answer decides.
            let _ = stdin.write_all(input.as_bytes()).await;
            drop(stdin);
            let mut out = Vec::new();
            stdout
                .read_to_end(&mut out)
                .await
                .map_err(|e| self.error(format!("cannot read its output: {e}")))?;
            let status = child
                .wait()
                .await
                .map_err(|e| self.error(format!("cannot wait for it: {e}")))?;
            Ok::<_, TargetError>((status, out))
        };
        let (status, out) = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(done) => done?,
            // Dropping the future drops the child, which kills the shell;
            // the rest of its group goes with a signal to the group.
            Err(_) => {
                if let Some(leader) = group {
                    super::groups::kill(leader);
                }
                return Err(self.error(format!(
                    "it did not answer within {} s (--authorizer-timeout)",
                    self.timeout.as_secs()
                )));
            }
        };
        let text = String::from_utf8_lossy(&out);
        if !status.success() {
            return Err(self.error(format!("it exited with {status}; stdout: {}", clip(&text))));
        }
        let result: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| {
            self.error(format!(
                "its output is not one JSON object ({e}): {}",
                clip(&text)
            ))
        })?;
        check_result(&self.describe(), &result)?;
        Ok(sdk_exchange(a, &self.describe(), &result))
    }
}

impl Authorizer for Command {
    fn describe(&self) -> String {
        format!("command `{}`", self.command)
    }

    fn authorize<'a>(
        &'a self,
        _client: &'a KlarnaClient,
        a: &'a Authorization,
    ) -> BoxFuture<'a, Result<Exchange, TargetError>> {
        Box::pin(self.run(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::{Credentials, Embedded};
    use std::sync::Arc;

    fn authorization() -> Authorization {
        Authorization {
            session_id: "s-1".to_owned(),
            client_token: "a.b.c".to_owned(),
            region: "eu",
            purchase_country: "SE".to_owned(),
            purchase_currency: "SEK".to_owned(),
            locale: "sv-SE".to_owned(),
            payment_method_category: Some("pay_later".to_owned()),
            data: serde_json::json!({"billing_address": {"email": "a@example.com"}}),
            control_body: "{}".to_owned(),
        }
    }

    fn client() -> KlarnaClient {
        KlarnaClient::new(
            Arc::new(Embedded::new(Default::default())),
            Credentials::new("u", "p"),
        )
    }

    async fn run(command: &str, timeout: Duration) -> Result<Exchange, TargetError> {
        Command::new(command, timeout)
            .authorize(&client(), &authorization())
            .await
    }

    #[tokio::test]
    async fn the_result_becomes_an_sdk_exchange() {
        // The program sees the session on stdin and answers with it.
        let ex = run(
            r#"read input; id=$(echo "$input" | sed 's/.*"session_id":"\([^"]*\)".*/\1/'); echo "{\"approved\":true,\"show_form\":true,\"authorization_token\":\"tok-$id\"}""#,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert_eq!(ex.method, "SDK");
        assert_eq!(ex.status, 200);
        let body = ex.json().unwrap();
        assert_eq!(body["authorization_token"], "tok-s-1");
        assert!(ex.request_body.unwrap().contains("pay_later"));
    }

    #[tokio::test]
    async fn a_timeout_ends_everything_the_program_started() {
        let dir = std::env::temp_dir().join(format!("kc-command-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("child.pid");
        let command = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let e = run(&command, Duration::from_millis(300)).await.unwrap_err();
        assert!(e.to_string().contains("did not answer"), "{e}");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        // Gone (or a zombie about to be reaped), not sleeping on.
        let alive = || {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .is_ok_and(|stat| !stat.contains(") Z "))
        };
        for _ in 0..50 {
            if !alive() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(), "the program's child {pid} outlived the timeout");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn failures_are_authorizer_errors_naming_the_command() {
        let cases = [
            ("exit 3", "exited with exit status: 3"),
            ("echo not json", "not one JSON object"),
            ("echo '{\"token\":1}'", "boolean \"approved\""),
            ("sleep 5", "did not answer within 0 s"),
        ];
        for (command, says) in cases {
            let timeout = if command.starts_with("sleep") {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(10)
            };
            let e = run(command, timeout).await.unwrap_err();
            let text = e.to_string();
            assert!(matches!(e, TargetError::Authorizer { .. }), "{text}");
            assert!(text.contains(says), "{command}: {text}");
            assert!(text.contains(command), "{command}: {text}");
        }
    }
}
