//! Reading the screens of Klarna's real widget (docs/klarna.md §11.6): Klarna
//! chooses which screens appear and in what order, so instead of a fixed
//! script each look at the page finds the widget's iframe, reads which
//! screen it shows by the selectors public test suites use, and does that
//! screen's one thing (type the OTP, type a personal number, press the
//! screen's button). The caller repeats this until the SDK's callback has
//! answered or the budget (120 s) is spent; a look that finds nothing, or
//! whose element went stale, is simply retried on the next look.
//!
//! Tested only against local imitation pages (tests/integration/browser.rs):
//! the real playground cannot be reached from where this was built.

use super::BrowserError;
use super::webdriver::{Element, Session};

/// The budget public suites give the widget (docs/klarna.md §11.6).
pub const BUDGET_SECS: u64 = 120;

/// The playground's one-time code (docs/klarna.md §6, §11.6).
pub const OTP: &str = "123456";

/// A Swedish test personal number of the playground (docs/klarna.md §11.6).
pub const PERSONAL_NUMBER_SE: &str = "410321-9202";

/// The widget's iframe: the current one, then the older fullscreen names.
pub const FRAMES: [&str; 4] = [
    "#klarna-apf-iframe",
    "iframe[id^='klarna-'][id$='-fullscreen']",
    "iframe[name^='klarna-'][name$='-fullscreen']",
    "#klarna-hpp-instance-fullscreen",
];

/// One-time code fields.
pub const OTP_FIELDS: [&str; 2] = ["#otp_field", "input[autocomplete='one-time-code']"];

/// Personal-number fields. `[I]` the names beyond the suites' own.
pub const PERSONAL_NUMBER_FIELDS: [&str; 3] = [
    "input[name='nationalIdentificationNumber']",
    "input[name='national_identification_number']",
    "#nin",
];

/// The buttons that move a screen on, in the order they are tried.
pub const BUTTONS: [&str; 8] = [
    "[data-testid='pick-plan']",
    "[data-fs-element='Buy Button']",
    "[data-testid='confirm-and-pay']",
    "[data-testid='kaf-button']",
    "#buy-button",
    "#onContinue",
    "#mandate-review__confirmation-button",
    "#invoice_kp-purchase-review-continue-button",
];

/// What one look at the widget did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// No widget iframe, or nothing to do in it yet.
    Nothing,
    TypedOtp,
    TypedPersonalNumber,
    /// Pressed the button matching this selector.
    Pressed(&'static str),
}

/// The data the screens may ask for.
#[derive(Debug, Clone)]
pub struct TestData {
    pub otp: String,
    pub personal_number: String,
}

impl Default for TestData {
    fn default() -> TestData {
        TestData {
            otp: OTP.to_owned(),
            personal_number: PERSONAL_NUMBER_SE.to_owned(),
        }
    }
}

/// One look: into the widget's iframe (nested iframes one level down too),
/// the screen's one action, back to the top.
pub(crate) async fn look(session: &Session, data: &TestData) -> Result<Action, BrowserError> {
    session.frame(None).await?;
    let Some(frame) = first_usable(session, &FRAMES).await? else {
        return Ok(Action::Nothing);
    };
    session.frame(Some(&frame)).await?;
    let mut action = act(session, data).await?;
    if action == Action::Nothing {
        // Some screens sit in an iframe inside the widget's.
        for inner in session.find_all("iframe").await? {
            if session.frame(Some(&inner)).await.is_err() {
                continue;
            }
            action = act(session, data).await?;
            if action != Action::Nothing {
                break;
            }
            session.frame(None).await?;
            session.frame(Some(&frame)).await?;
        }
    }
    session.frame(None).await?;
    Ok(action)
}

/// The action of the screen in the current frame.
async fn act(session: &Session, data: &TestData) -> Result<Action, BrowserError> {
    if let Some(field) = empty_field(session, &OTP_FIELDS).await? {
        session.type_text(&field, &data.otp).await?;
        return Ok(Action::TypedOtp);
    }
    if let Some(field) = empty_field(session, &PERSONAL_NUMBER_FIELDS).await? {
        session.type_text(&field, &data.personal_number).await?;
        return Ok(Action::TypedPersonalNumber);
    }
    for selector in BUTTONS {
        if let Some(button) = session.find_usable(selector).await? {
            session.click(&button).await?;
            return Ok(Action::Pressed(selector));
        }
    }
    Ok(Action::Nothing)
}

async fn first_usable(
    session: &Session,
    selectors: &[&str],
) -> Result<Option<Element>, BrowserError> {
    for selector in selectors {
        if let Some(element) = session.find_usable(selector).await? {
            return Ok(Some(element));
        }
    }
    Ok(None)
}

/// A usable input of `selectors` that is still empty.
async fn empty_field(
    session: &Session,
    selectors: &[&str],
) -> Result<Option<Element>, BrowserError> {
    for selector in selectors {
        let Some(field) = session.find_usable(selector).await? else {
            continue;
        };
        let value = session
            .execute("return arguments[0].value || '';", vec![field.reference()])
            .await?;
        if value.as_str().is_some_and(str::is_empty) {
            return Ok(Some(field));
        }
    }
    Ok(None)
}
