//! Just enough W3C WebDriver (https://www.w3.org/TR/webdriver2/) to drive a
//! checkout page, spoken with the crate's own reqwest to a chromedriver the
//! harness starts on a loopback port: new session, navigate, execute script,
//! find elements, click, type, switch frames, delete session.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::BrowserError;

/// The key of an element reference in W3C WebDriver.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process on 127.0.0.1, killed when this is dropped.
pub(crate) struct Driver {
    port: u16,
    child: Mutex<Option<Child>>,
    /// Sessions still open, deleted on drop (chromedriver then closes Chromium).
    sessions: Mutex<Vec<String>>,
    /// Its group, ended if the harness quits at once (a second Ctrl-C).
    _group: crate::authorize::groups::Started,
}

impl Driver {
    /// Starts `chromedriver` on a free loopback port (chromedriver accepts
    /// local connections only by default).
    pub fn spawn(chromedriver: &Path) -> Result<Driver, BrowserError> {
        let port = free_port().map_err(|e| BrowserError::Driver(format!("no free port: {e}")))?;
        let mut command = Command::new(chromedriver);
        command
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg("--log-level=OFF")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // A group of its own: the terminal's Ctrl-C is the harness's to
        // handle (it finishes the cases in flight, which need the browser).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().map_err(|e| {
            BrowserError::Driver(format!("cannot start {}: {e}", chromedriver.display()))
        })?;
        Ok(Driver {
            port,
            _group: crate::authorize::groups::started(child.id()),
            child: Mutex::new(Some(child)),
            sessions: Mutex::new(Vec::new()),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Waits until chromedriver answers `GET /status` with `ready`.
    pub async fn wait_ready(
        &self,
        http: &reqwest::Client,
        within: Duration,
    ) -> Result<(), BrowserError> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.exited() {
                return Err(BrowserError::Driver(format!(
                    "chromedriver exited ({status})"
                )));
            }
            let ready = http
                .get(self.url("/status"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .ok();
            if let Some(response) = ready {
                let body: Value = response.json().await.unwrap_or(Value::Null);
                if body.pointer("/value/ready") == Some(&Value::Bool(true)) {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(BrowserError::Driver(format!(
                    "chromedriver did not become ready on port {} within {} s",
                    self.port,
                    within.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn exited(&self) -> Option<String> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        match child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(status))) => Some(status.to_string()),
            _ => None,
        }
    }

    /// A new session of Chromium at `chromium` with `args`.
    pub async fn session(
        &self,
        http: &reqwest::Client,
        chromium: &Path,
        args: &[String],
    ) -> Result<Session, BrowserError> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"script": 30_000, "pageLoad": 30_000, "implicit": 0},
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args},
        }}});
        let response = http
            .post(self.url("/session"))
            .timeout(Duration::from_secs(60))
            .json(&capabilities)
            .send()
            .await
            .map_err(|e| BrowserError::Driver(format!("new session: {e}")))?;
        let value = value_of(response, "new session").await?;
        let id = value
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| BrowserError::Driver(format!("new session answered {value}")))?
            .to_owned();
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id.clone());
        Ok(Session {
            base: self.url(&format!("/session/{id}")),
            http: http.clone(),
        })
    }

    /// Forgets a session that was deleted or broke.
    pub fn forget(&self, session: &Session) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|id| !session.base.ends_with(&format!("/session/{id}")));
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let sessions =
            std::mem::take(&mut *self.sessions.lock().unwrap_or_else(|e| e.into_inner()));
        for id in sessions {
            // Blocking and short: chromedriver closes that Chromium.
            let _ = delete_blocking(self.port, &format!("/session/{id}"));
        }
        if let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `DELETE path` to chromedriver over a plain socket (usable in `Drop`, outside any runtime).
fn delete_blocking(port: u16, path: &str) -> std::io::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = [0u8; 512];
    let _ = stream.read(&mut answer)?;
    Ok(())
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// A WebDriver error answer: its `error` code and message.
async fn value_of(response: reqwest::Response, what: &str) -> Result<Value, BrowserError> {
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| BrowserError::Driver(format!("{what}: unreadable answer: {e}")))?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    let code = value
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("unknown error");
    let message = value.get("message").and_then(Value::as_str).unwrap_or("");
    let first_line = message.lines().next().unwrap_or("");
    Err(BrowserError::WebDriver {
        code: code.to_owned(),
        message: format!("{what}: {first_line}"),
    })
}

/// An element found on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element(String);

impl Element {
    pub fn reference(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}

/// One WebDriver session: one Chromium window.
pub(crate) struct Session {
    base: String,
    http: reqwest::Client,
}

impl Session {
    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, BrowserError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(Duration::from_secs(45));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| BrowserError::Driver(format!("{path}: {e}")))?;
        value_of(response, path.trim_start_matches('/')).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, BrowserError> {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, BrowserError> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Elements matching a CSS selector in the current frame.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>, BrowserError> {
        let value = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(value
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| e.get(ELEMENT_KEY).and_then(Value::as_str))
                    .map(|id| Element(id.to_owned()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The first element matching `css` that is displayed and enabled.
    pub async fn find_usable(&self, css: &str) -> Result<Option<Element>, BrowserError> {
        for element in self.find_all(css).await? {
            let usable = self
                .execute(
                    "var e = arguments[0]; var r = e.getBoundingClientRect(); \
                     return !e.disabled && r.width > 0 && r.height > 0 && \
                     getComputedStyle(e).visibility !== 'hidden';",
                    vec![element.reference()],
                )
                .await;
            match usable {
                Ok(Value::Bool(true)) => return Ok(Some(element)),
                Ok(_) | Err(BrowserError::WebDriver { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    pub async fn click(&self, element: &Element) -> Result<(), BrowserError> {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .await
            .map(drop)
    }

    pub async fn type_text(&self, element: &Element, text: &str) -> Result<(), BrowserError> {
        self.post(
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .await
        .map(drop)
    }

    /// Into `frame` (an iframe element of the current frame), or back to the top with `None`.
    pub async fn frame(&self, frame: Option<&Element>) -> Result<(), BrowserError> {
        let id = frame.map_or(Value::Null, Element::reference);
        self.post("/frame", json!({ "id": id })).await.map(drop)
    }

    pub async fn delete(&self) -> Result<(), BrowserError> {
        self.command(reqwest::Method::DELETE, "", None)
            .await
            .map(drop)
    }
}
