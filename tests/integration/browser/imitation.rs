//! Local imitation pages of Klarna's widget, served on 127.0.0.1: an SDK
//! whose `authorize()` opens the widget's iframe and screens that each ask
//! for one thing (a plan, the OTP, a personal number, the buy button), in
//! orders and with delays the browser authorizer's screen logic must cope
//! with. Nothing here is Klarna's; the selectors are those public test
//! suites use (docs/klarna.md §11.6).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The imitation SDK: `authorize` opens `/screen/<flow>/0` in an iframe and
/// answers the callback with what the last screen posts.
const SDK: &str = r#"
(function () {
  var src = new URL(document.currentScript.src);
  var flow = "stuck";
  var api = {
    // The flow to imitate comes in the client token's payload: {"flow": ...}.
    init: function (o) {
      if (!o || typeof o.client_token !== "string" || o.client_token.split(".").length !== 3) {
        throw new TypeError("not a JWT");
      }
      flow = JSON.parse(atob(o.client_token.split(".")[1])).flow || "stuck";
    },
    load: function (o, d, cb) { (cb || d)({ show_form: true }); },
    authorize: function (o, data, cb) {
      var open = function () {
        var frame = document.createElement("iframe");
        if (flow === "legacy") { frame.id = "klarna-payments-fullscreen"; frame.name = "klarna-payments-fullscreen"; }
        else { frame.id = "klarna-apf-iframe"; }
        frame.style.width = "600px"; frame.style.height = "400px";
        frame.src = src.origin + "/screen/" + flow + "/0";
        window.addEventListener("message", function (e) {
          if (e.data && e.data.klarna_done) { frame.remove(); cb(e.data.klarna_done); }
        });
        document.body.appendChild(frame);
      };
      if (flow === "slow") setTimeout(open, 1500); else open();
    },
  };
  window.Klarna = { Payments: api, Credit: api };
})();
"#;

/// The screens of each flow, in order: what each shows.
fn screens(flow: &str) -> &'static [&'static str] {
    match flow {
        "apf" => &["pick-plan", "otp", "buy"],
        "legacy" => &["personal-number", "buy-button"],
        "slow" => &["late-pick-plan", "confirm"],
        "otp-first" => &["otp", "kaf", "buy"],
        _ => &["stuck"],
    }
}

/// One screen's page; `next` is where it goes when answered.
fn screen(flow: &str, step: usize) -> String {
    let steps = screens(flow);
    let Some(kind) = steps.get(step) else {
        return "<p>no such screen</p>".into();
    };
    let next = if step + 1 < steps.len() {
        format!("location.href = '/screen/{flow}/{}';", step + 1)
    } else {
        format!(
            "parent.postMessage({{klarna_done: {{approved: true, show_form: true, authorization_token: 'imitation-{flow}'}}}}, '*');"
        )
    };
    let body = match *kind {
        "pick-plan" => format!(
            r#"<h2>Choose a plan</h2><button data-testid="pick-plan" onclick="{next}">Pay in 30 days</button>"#
        ),
        "late-pick-plan" => format!(
            r#"<h2>Loading…</h2><script>setTimeout(function () {{
                var b = document.createElement('button'); b.setAttribute('data-testid', 'pick-plan');
                b.textContent = 'Continue'; b.onclick = function () {{ {next} }}; document.body.appendChild(b);
            }}, 1000);</script>"#
        ),
        "otp" => format!(
            r#"<h2>Enter the code</h2><input id="otp_field" inputmode="numeric">
               <script>document.getElementById('otp_field').addEventListener('input', function (e) {{
                 if (e.target.value === '123456') {{ {next} }} }});</script>"#
        ),
        "personal-number" => format!(
            r#"<h2>Personal number</h2><input name="nationalIdentificationNumber">
               <button id="onContinue" onclick="if (document.querySelector('input').value === '410321-9202') {{ {next} }}">Continue</button>"#
        ),
        "buy" => format!(
            r#"<h2>Confirm</h2><button data-fs-element="Buy Button" onclick="{next}">Buy</button>"#
        ),
        "buy-button" => {
            format!(r#"<h2>Confirm</h2><button id="buy-button" onclick="{next}">Buy</button>"#)
        }
        "kaf" => format!(
            r#"<h2>Details</h2><button data-testid="kaf-button" onclick="{next}">Continue</button>"#
        ),
        "confirm" => format!(
            r#"<h2>Review</h2><button data-testid="confirm-and-pay" onclick="{next}">Confirm and pay</button>"#
        ),
        _ => "<h2>A screen nobody knows</h2><p>Nothing to press.</p>".into(),
    };
    format!("<!doctype html><html><body>{body}</body></html>")
}

async fn handle(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (content_type, body) = match segments.as_slice() {
        ["sdk.js"] => ("application/javascript", SDK.to_owned()),
        ["screen", flow, step] => (
            "text/html; charset=utf-8",
            screen(flow, step.parse().unwrap_or(usize::MAX)),
        ),
        _ => ("text/plain", "not found".to_owned()),
    };
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Serves the imitation on a loopback port; returns its address.
pub async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, Router::new().fallback(handle)).await;
    });
    addr
}

/// The imitation SDK's URL.
pub fn sdk_url(addr: SocketAddr) -> String {
    format!("http://{addr}/sdk.js")
}

/// A client token whose payload asks the imitation for `flow`.
pub fn token(flow: &str) -> String {
    use base64::Engine as _;
    let payload =
        base64::engine::general_purpose::STANDARD.encode(format!(r#"{{"flow":"{flow}"}}"#));
    format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
        payload.trim_end_matches('=')
    )
}
