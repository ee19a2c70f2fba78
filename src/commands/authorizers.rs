//! `--authorizer`: what stands for the browser's `Klarna.Payments.authorize()`
//! (README "Authorizers"), named on the command line.

use std::sync::Arc;

use klarna_conformance::authorize::{self, Authorizer};

use crate::cli::TargetArgs;

/// The authorizer `--authorizer` names; `None` is the control API.
pub fn authorizer(args: &TargetArgs) -> Result<Option<Arc<dyn Authorizer>>, String> {
    named_authorizer(
        args.authorizer.as_deref(),
        args.authorizer_timeout,
        args.target == "playground",
        &args.target,
    )
}

/// `--authorizer browser` for `target` (`mock`, `playground` or a URL):
/// the mock's checkout page at a URL target, Klarna's widget for the
/// playground (docs/klarna.md §14).
fn browser_authorizer(
    target: &str,
    timeout: std::time::Duration,
) -> Result<Arc<dyn Authorizer>, String> {
    use klarna_conformance::authorize::browser::{
        Browser, BrowserOptions, Checkout, KLARNA_SDK_URL,
    };
    let checkout = match target {
        "mock" => {
            return Err(
                "--authorizer browser needs the mock on a socket, where Chromium can reach it: \
                 start `klarna-conformance serve` and use --target http://127.0.0.1:PORT"
                    .to_owned(),
            );
        }
        "playground" => Checkout::Widget {
            sdk_url: KLARNA_SDK_URL.to_owned(),
        },
        url => Checkout::for_target(url),
    };
    let mut options = BrowserOptions::new(checkout);
    options.timeout = timeout;
    let browser = Browser::new(options).map_err(|e| format!("--authorizer browser: {e}"))?;
    Ok(Arc::new(browser))
}

/// `--authorizer`'s value as an authorizer; `None` is the control API, which
/// a target without one (`no_control_api`) cannot use.
pub(super) fn named_authorizer(
    name: Option<&str>,
    timeout_seconds: u64,
    no_control_api: bool,
    target: &str,
) -> Result<Option<Arc<dyn Authorizer>>, String> {
    let timeout = std::time::Duration::from_secs(timeout_seconds.max(1));
    match name.map(str::trim) {
        Some("control-api") if no_control_api => Err(
            "this target has no control API to authorize with: use --authorizer browser or --authorizer CMD"
                .to_owned(),
        ),
        None if no_control_api => Err(
            "--target playground needs an --authorizer (`browser` or a command, README \"Authorizers\"): \
             only a browser can authorize on Klarna's playground; or use `klarna-conformance certify` \
             with tokens you authorized yourself"
                .to_owned(),
        ),
        Some("browser") => browser_authorizer(target, timeout).map(Some),
        None | Some("control-api") => Ok(None),
        Some("") => Err("--authorizer is empty: give `control-api`, `browser` or a command".to_owned()),
        Some(command) => Ok(Some(Arc::new(authorize::Command::new(command, timeout)))),
    }
}
