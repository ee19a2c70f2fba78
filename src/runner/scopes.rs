//! Concurrent runs against a URL target. A server with one clock and one
//! store for every client can only run one case at a time: a case that moves
//! the clock would expire another's tokens. `klarna-conformance serve` says
//! in `GET /__mock/health` that a Basic username `USERNAME+SCOPE` reaches a
//! store and clock of its own (docs/design.md, "Scopes"); then every worker
//! runs in a scope of its own and none can see another.

use crate::client::KlarnaClient;
use crate::targets::{Credentials, Method, TargetError, TargetSpec};

/// What `GET /__mock/health` answers in `scopes` when usernames name scopes.
const SCOPES_BY_USERNAME: &str = "username+scope";

/// Worker threads per core against a server with scopes: each spends most
/// of its time waiting for an answer over loopback.
pub const WORKERS_PER_CORE: usize = 4;

/// How the workers of a run reach the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concurrency {
    /// The embedded mock: a fresh mock per case, on this many threads.
    Embedded { workers: usize },
    /// A URL target with scopes: one worker per scope `{prefix}{n}`, n from 1.
    Scoped { workers: usize, prefix: String },
    /// One case at a time; `why` says why (for the report).
    Sequential { why: &'static str },
}

impl Concurrency {
    pub fn workers(&self) -> usize {
        match self {
            Concurrency::Embedded { workers } | Concurrency::Scoped { workers, .. } => *workers,
            Concurrency::Sequential { .. } => 1,
        }
    }

    /// The credentials of worker `index` (from 0), when it has its own.
    pub fn credentials(&self, base: &Credentials, index: usize) -> Option<Credentials> {
        match self {
            Concurrency::Scoped { prefix, .. } => Some(worker_credentials(prefix, base, index)),
            _ => None,
        }
    }

    /// One line for the report, or none for the embedded mock.
    pub fn describe(&self) -> Option<String> {
        match self {
            Concurrency::Embedded { .. } => None,
            Concurrency::Scoped { workers: 1, prefix } => Some(format!(
                "1 worker in a scope of its own ({prefix}1, reset first)"
            )),
            Concurrency::Scoped { workers, prefix } => Some(format!(
                "{workers} workers, each in a scope of its own ({prefix}1 to w{workers}, reset first)"
            )),
            Concurrency::Sequential { why } => Some(format!("one case at a time: {why}")),
        }
    }
}

/// Worker `index`'s (from 0) username `{prefix}{index + 1}`, the password as given.
fn worker_credentials(prefix: &str, base: &Credentials, index: usize) -> Credentials {
    Credentials::new(format!("{prefix}{}", index + 1), base.password.clone())
}

/// The scope prefix of a run: the worker scopes are `{prefix}1`, `{prefix}2`…
/// A username that names a scope already (`shop+job-7`, a CI job's own)
/// keeps it as a prefix (`shop+job-7.w1`); otherwise the run's seed tells
/// two runs against one server apart (`shop+run-1f2e….w1`).
pub fn scope_prefix(username: &str, seed: u64) -> String {
    match username.split_once('+') {
        Some(_) => format!("{username}.w"),
        None => format!("{username}+run-{seed:016x}.w"),
    }
}

/// How a run of `workers` threads reaches the URL target `spec`: scoped when
/// the server offers scopes and accepts the workers' usernames (each scope is
/// reset, so a seeded server answers every run alike), else one case at a time.
pub async fn scoped(
    spec: &TargetSpec,
    credentials: &Credentials,
    seed: u64,
    workers: usize,
) -> Result<Concurrency, TargetError> {
    // One connection pool for the probe and every worker's reset.
    let target = spec.connect(None)?;
    let client = KlarnaClient::new(target.clone(), credentials.clone());
    let health = client.send(Method::Get, "/__mock/health", None).await?;
    let scopes = health.status == 200
        && health
            .json()
            .and_then(|v| v.get("scopes")?.as_str().map(str::to_owned))
            .is_some_and(|s| s == SCOPES_BY_USERNAME);
    if !scopes {
        return Ok(Concurrency::Sequential {
            why: "the server offers no scopes (GET /__mock/health)",
        });
    }
    let prefix = scope_prefix(&credentials.username, seed);
    for index in 0..workers {
        let own = worker_credentials(&prefix, credentials, index);
        let scoped = KlarnaClient::new(target.clone(), own);
        let reset = scoped.send(Method::Post, "/__mock/reset", None).await?;
        if !matches!(reset.status, 200 | 204) {
            // The scope's username was refused (a server whose own username
            // has a `+`, say): the run still works, one case at a time.
            return Ok(Concurrency::Sequential {
                why: "the server refused a worker's scope (POST /__mock/reset)",
            });
        }
    }
    Ok(Concurrency::Scoped { workers, prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_keep_a_given_scope_and_tell_runs_apart() {
        assert_eq!(scope_prefix("shop+job-7", 1), "shop+job-7.w");
        assert_eq!(scope_prefix("shop", 255), "shop+run-00000000000000ff.w");
        let scoped = Concurrency::Scoped {
            workers: 2,
            prefix: "shop+a.w".into(),
        };
        let base = Credentials::new("shop+a", "pw");
        let second = scoped.credentials(&base, 1).unwrap();
        assert_eq!(
            (second.username.as_str(), second.password.as_str()),
            ("shop+a.w2", "pw")
        );
        assert_eq!(
            Concurrency::Embedded { workers: 2 }.credentials(&base, 0),
            None
        );
    }
}
