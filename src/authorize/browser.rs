//! The browser authorizer (`--authorizer browser`): a real headless Chromium,
//! driven over W3C WebDriver by a chromedriver the harness starts on
//! 127.0.0.1, runs a checkout page that loads Klarna's JS SDK and calls
//! `init`, `load` and `authorize` (and `finalize` after `finalize_required`),
//! presses through the form as the customer, and hands back the SDK
//! callback's result (docs/klarna.md §7, §11.6, §14).
//!
//! - Against the mock (`serve`, `MockServer`): the mock's own checkout page
//!   `/__mock/checkout` with the SDK stand-in `/kp/lib/v1/api.js`; the
//!   customer presses its Buy button. Chromium is kept off the network:
//!   every host but loopback goes to a closed proxy port.
//! - Against Klarna's playground: a page of the harness's own on 127.0.0.1
//!   (`page.rs`) loads Klarna's real SDK, and the widget's screens are read
//!   and answered one by one (`playground.rs`) within 120 s. It needs the
//!   same opt-in as `certify` (`KLARNA_PLAYGROUND=1`) and was never run
//!   against the real playground: only against local imitation pages.
//!
//! The binaries are `/usr/bin/chromium` and `/usr/bin/chromedriver`
//! (Debian's `chromium` and `chromium-driver`), or `KLARNA_CHROMIUM` and
//! `KLARNA_CHROMEDRIVER`. One chromedriver and one Chromium window serve
//! every authorization of a `Browser`, one at a time; both end when it is
//! dropped.

mod authorizer;
mod page;
pub mod playground;
mod webdriver;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use authorizer::refused_exchange;
use page::PageServer;
use playground::TestData;
use webdriver::{Driver, Session};

/// The variable naming the Chromium binary.
pub const CHROMIUM_ENV: &str = "KLARNA_CHROMIUM";
/// The variable naming the chromedriver binary.
pub const CHROMEDRIVER_ENV: &str = "KLARNA_CHROMEDRIVER";
/// Debian's paths.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
pub const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Klarna's SDK on its CDN (docs/klarna.md §11.6).
pub const KLARNA_SDK_URL: &str = "https://x.klarnacdn.net/kp/lib/v1/api.js";
/// How to install what is missing.
pub const INSTALL_HINT: &str = "apt-get install -y chromium chromium-driver";

/// Why the browser authorizer could not do its job (never a verdict on the target).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// A binary is not there: install it or name it.
    #[error("{what} not found at {path} (set {var}, or {INSTALL_HINT})")]
    Missing {
        what: &'static str,
        path: String,
        var: &'static str,
    },
    /// The playground needs the opt-in that certify needs.
    #[error("the browser authorizer loads Klarna's SDK from {0} only with KLARNA_PLAYGROUND=1")]
    NoOptIn(String),
    #[error("chromedriver: {0}")]
    Driver(String),
    #[error("WebDriver {code}: {message}")]
    WebDriver { code: String, message: String },
    /// The checkout page itself failed (the SDK did not load, init threw).
    #[error("the checkout page: {0}")]
    Page(String),
    #[error("no SDK answer within {secs} s (phase {phase}; did: {did})")]
    Timeout {
        secs: u64,
        phase: String,
        did: String,
    },
}

/// Which checkout page the browser opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkout {
    /// The mock's own page and SDK stand-in, at the mock's base URL.
    Mock { base_url: String },
    /// A page of the harness's own loading the SDK at `sdk_url` (Klarna's,
    /// [`KLARNA_SDK_URL`], or a local imitation), whose widget screens are read.
    Widget { sdk_url: String },
}

impl Checkout {
    /// The checkout for a target URL: Klarna's widget for Klarna's hosts,
    /// else the mock's page at that URL.
    pub fn for_target(base_url: &str) -> Checkout {
        if crate::targets::klarna_host(base_url).is_some() {
            Checkout::Widget {
                sdk_url: KLARNA_SDK_URL.to_owned(),
            }
        } else {
            Checkout::Mock {
                base_url: base_url.trim_end_matches('/').to_owned(),
            }
        }
    }
}

/// How to start the browser.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
    pub checkout: Checkout,
    /// The budget of one authorization: 30 s for the mock's page, 120 s
    /// for the widget by default.
    pub timeout: Duration,
    /// What the widget's screens are answered with.
    pub test_data: TestData,
}

impl BrowserOptions {
    /// The binaries from `KLARNA_CHROMIUM` / `KLARNA_CHROMEDRIVER` or Debian's paths.
    pub fn new(checkout: Checkout) -> BrowserOptions {
        let path = |var: &str, default: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map_or_else(|| PathBuf::from(default), PathBuf::from)
        };
        let timeout = match checkout {
            Checkout::Mock { .. } => Duration::from_secs(30),
            Checkout::Widget { .. } => Duration::from_secs(playground::BUDGET_SECS),
        };
        BrowserOptions {
            chromium: path(CHROMIUM_ENV, DEFAULT_CHROMIUM),
            chromedriver: path(CHROMEDRIVER_ENV, DEFAULT_CHROMEDRIVER),
            checkout,
            timeout,
            test_data: TestData::default(),
        }
    }

    /// Both binaries are there (a clear error names the missing one).
    pub fn check_binaries(&self) -> Result<(), BrowserError> {
        for (what, path, var) in [
            ("chromium", &self.chromium, CHROMIUM_ENV),
            ("chromedriver", &self.chromedriver, CHROMEDRIVER_ENV),
        ] {
            if !path.is_file() {
                return Err(BrowserError::Missing {
                    what,
                    path: path.display().to_string(),
                    var,
                });
            }
        }
        Ok(())
    }
}

/// Who presses what on the mock's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Customer {
    /// Presses Buy (the customer confirms).
    #[default]
    Buys,
    /// Presses Close (the customer closes the form).
    Closes,
}

/// One checkout: what the page passes to the SDK.
#[derive(Debug, Clone, Default)]
pub struct Flow {
    pub client_token: String,
    pub payment_method_category: Option<String>,
    /// `authorize(options, data, cb)`'s data.
    pub data: Value,
    /// `authorize({auto_finalize})`; `true` unless set.
    pub auto_finalize: Option<bool>,
    /// `finalize(options, data, cb)`'s data, after `finalize_required`.
    pub finalize_data: Value,
    /// The legacy name `Klarna.Credit` (the mock's `/lib/v1/api.js`).
    pub legacy_sdk: bool,
    pub customer: Customer,
}

/// What the page saw: each SDK call's callback result, and the last one.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `load`, `authorize`, `finalize` with their results, in order.
    pub steps: Vec<(String, Value)>,
    /// The final callback result (finalize's after `finalize_required`).
    pub result: Option<Value>,
    /// `init` threw: its message.
    pub init_error: Option<String>,
}

/// The browser authorizer.
pub struct Browser {
    options: BrowserOptions,
    http: reqwest::Client,
    driver: OnceLock<Result<Driver, BrowserError>>,
    session: tokio::sync::Mutex<Option<Session>>,
    page: Option<PageServer>,
}

impl Browser {
    /// Checks the binaries and the opt-in; starts nothing yet (chromedriver
    /// and Chromium start on the first authorization).
    pub fn new(options: BrowserOptions) -> Result<Browser, BrowserError> {
        options.check_binaries()?;
        let page = match &options.checkout {
            Checkout::Mock { .. } => None,
            Checkout::Widget { sdk_url } => {
                if needs_opt_in(sdk_url) {
                    let opted = crate::targets::playground_opt_in(
                        std::env::var(crate::targets::env::PLAYGROUND)
                            .ok()
                            .as_deref(),
                    )
                    .map_err(BrowserError::Page)?;
                    if !opted {
                        return Err(BrowserError::NoOptIn(sdk_url.clone()));
                    }
                }
                Some(PageServer::start(sdk_url).map_err(|e| {
                    BrowserError::Page(format!("cannot serve the local checkout page: {e}"))
                })?)
            }
        };
        // No pooled connections: each worker's runtime makes its own.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .no_proxy()
            .build()
            .map_err(|e| BrowserError::Driver(format!("no HTTP client: {e}")))?;
        Ok(Browser {
            options,
            http,
            driver: OnceLock::new(),
            session: tokio::sync::Mutex::new(None),
            page,
        })
    }

    pub fn options(&self) -> &BrowserOptions {
        &self.options
    }

    fn chromium_args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--disable-breakpad",
            "--no-pings",
            "--metrics-recording-only",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if matches!(self.options.checkout, Checkout::Mock { .. }) || self.page_is_local() {
            // Offline: only loopback is reached; everything else meets a closed port.
            args.push("--proxy-server=http://127.0.0.1:1".into());
            args.push("--proxy-bypass-list=127.0.0.1;localhost;[::1]".into());
        }
        args
    }

    /// A widget page whose SDK is served on loopback (an imitation).
    fn page_is_local(&self) -> bool {
        matches!(&self.options.checkout, Checkout::Widget { sdk_url } if !needs_opt_in(sdk_url) && is_loopback_url(sdk_url))
    }

    async fn driver(&self) -> Result<&Driver, BrowserError> {
        let driver = self
            .driver
            .get_or_init(|| Driver::spawn(&self.options.chromedriver));
        let driver = driver.as_ref().map_err(Clone::clone)?;
        driver
            .wait_ready(&self.http, Duration::from_secs(20))
            .await?;
        Ok(driver)
    }

    /// Runs one checkout and returns what the page saw.
    pub async fn checkout(&self, flow: &Flow) -> Result<Outcome, BrowserError> {
        let mut slot = self.session.lock().await;
        if slot.is_none() {
            let driver = self.driver().await?;
            let args = self.chromium_args();
            *slot = Some(
                driver
                    .session(&self.http, &self.options.chromium, &args)
                    .await?,
            );
        }
        let session = slot
            .as_ref()
            .ok_or_else(|| BrowserError::Driver("no session".into()))?;
        let outcome = self.run(session, flow).await;
        if matches!(
            outcome,
            Err(BrowserError::Driver(_) | BrowserError::WebDriver { .. })
        ) {
            // A broken window is not reused.
            if let Some(session) = slot.take() {
                let _ = session.delete().await;
                if let Some(Ok(driver)) = self.driver.get() {
                    driver.forget(&session);
                }
            }
        }
        outcome
    }

    fn page_url(&self, flow: &Flow) -> String {
        match (&self.options.checkout, &self.page) {
            (Checkout::Mock { base_url }, _) => {
                let legacy = if flow.legacy_sdk { "?sdk=credit" } else { "" };
                format!("{base_url}{}{legacy}", crate::mock::CHECKOUT_PATH)
            }
            (Checkout::Widget { .. }, Some(page)) => page.url(),
            (Checkout::Widget { sdk_url }, None) => sdk_url.clone(),
        }
    }

    async fn run(&self, session: &Session, flow: &Flow) -> Result<Outcome, BrowserError> {
        let started = Instant::now();
        let deadline = started + self.options.timeout;
        session.frame(None).await.ok();
        session.goto(&self.page_url(flow)).await?;
        let start = json!({
            "client_token": flow.client_token,
            "payment_method_category": flow.payment_method_category,
            "data": if flow.data.is_null() { json!({}) } else { flow.data.clone() },
            "auto_finalize": flow.auto_finalize.unwrap_or(true),
            "finalize_data": if flow.finalize_data.is_null() { json!({}) } else { flow.finalize_data.clone() },
            "sdk": if flow.legacy_sdk { "credit" } else { "payments" },
        });
        let started_page = session
            .execute(
                "return window.klarnaCheckout ? window.klarnaCheckout.start(arguments[0]) : null;",
                vec![start],
            )
            .await?;
        if started_page.is_null() {
            return Err(BrowserError::Page(format!(
                "{} is not the checkout page (no klarnaCheckout)",
                self.page_url(flow)
            )));
        }
        let mut did: Vec<String> = Vec::new();
        loop {
            let state = session
                .execute("return window.klarnaCheckout.state;", Vec::new())
                .await?;
            let phase = state
                .get("phase")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if phase == "done" {
                return outcome(&state);
            }
            if Instant::now() >= deadline {
                return Err(BrowserError::Timeout {
                    secs: self.options.timeout.as_secs(),
                    phase,
                    did: if did.is_empty() {
                        "nothing".into()
                    } else {
                        did.join(", ")
                    },
                });
            }
            match &self.options.checkout {
                Checkout::Mock { .. } => {
                    if let Some(pressed) = press_mock_form(session, flow.customer).await? {
                        did.push(pressed.into());
                    }
                }
                Checkout::Widget { .. } => {
                    // Every look is retried: a stale element or a frame
                    // that went away is the next screen arriving.
                    match playground::look(session, &self.options.test_data).await {
                        Ok(playground::Action::Nothing) => {}
                        Ok(action) => did.push(format!("{action:?}")),
                        Err(BrowserError::WebDriver { .. }) => {
                            session.frame(None).await.ok();
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The customer's button of the mock's form, when the form waits for one.
async fn press_mock_form(
    session: &Session,
    customer: Customer,
) -> Result<Option<&'static str>, BrowserError> {
    let testid = match customer {
        Customer::Buys => "klarna-mock-buy",
        Customer::Closes => "klarna-mock-close",
    };
    let css = format!("[data-klarna-mock='form'][data-state='awaiting'] [data-testid='{testid}']");
    match session.find_usable(&css).await? {
        Some(button) => {
            session.click(&button).await?;
            Ok(Some(testid))
        }
        None => Ok(None),
    }
}

/// The page's final state as an [`Outcome`].
fn outcome(state: &Value) -> Result<Outcome, BrowserError> {
    if let Some(error) = state.get("sdk_error").and_then(Value::as_str) {
        return Err(BrowserError::Page(error.to_owned()));
    }
    let steps = state
        .get("steps")
        .and_then(Value::as_array)
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    let call = s
                        .get("call")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    (call, s.get("result").cloned().unwrap_or(Value::Null))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Outcome {
        steps,
        result: state.get("result").cloned().filter(|r| !r.is_null()),
        init_error: state
            .get("init_error")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Whether loading the SDK from `url` calls Klarna (its CDN or its hosts).
fn needs_opt_in(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return true;
    };
    let host = parsed.host_str().unwrap_or("").to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    [
        "klarna.com",
        "klarnacdn.net",
        "klarnaservices.com",
        "klarna.net",
    ]
    .iter()
    .any(|k| host == *k || host.ends_with(&format!(".{k}")))
}

fn is_loopback_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klarna_hosts_need_the_opt_in() {
        assert!(needs_opt_in(KLARNA_SDK_URL));
        assert!(needs_opt_in("https://credit.klarnacdn.net/lib/v1/api.js"));
        assert!(needs_opt_in("not a url"));
        assert!(!needs_opt_in("http://127.0.0.1:9/sdk.js"));
        assert!(is_loopback_url("http://127.0.0.1:9/sdk.js"));
        assert!(!is_loopback_url("https://example.com/sdk.js"));
    }

    #[test]
    fn targets_choose_their_checkout() {
        assert_eq!(
            Checkout::for_target("http://127.0.0.1:8080/"),
            Checkout::Mock {
                base_url: "http://127.0.0.1:8080".into()
            }
        );
        assert!(matches!(
            Checkout::for_target("https://api.playground.klarna.com"),
            Checkout::Widget { .. }
        ));
    }

    #[test]
    fn missing_binaries_are_named_with_the_fix() {
        let mut options = BrowserOptions::new(Checkout::Mock {
            base_url: "http://127.0.0.1:1".into(),
        });
        options.chromium = PathBuf::from("/nonexistent/chromium");
        let error = options.check_binaries().unwrap_err().to_string();
        assert!(error.contains("/nonexistent/chromium"), "{error}");
        assert!(
            error.contains(CHROMIUM_ENV) && error.contains(INSTALL_HINT),
            "{error}"
        );
    }

    #[test]
    fn the_final_state_reads_as_an_outcome() {
        let state = json!({"phase": "done", "steps": [{"call": "load", "result": {"show_form": true}}],
            "result": {"approved": true}});
        let o = outcome(&state).unwrap();
        assert_eq!(o.steps.len(), 1);
        assert_eq!(o.result, Some(json!({"approved": true})));
        assert!(outcome(&json!({"sdk_error": "x"})).is_err());
    }
}
