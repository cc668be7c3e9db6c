//! Debian's Chromium driven through its ChromeDriver (fantoccini as the WebDriver
//! client) against a real `picket run`. One browser at a time (two cores): every test
//! holds [`Browser`], which owns the ChromeDriver process, a fresh profile and the
//! session, saves a screenshot when the test fails, and cleans up on drop.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::common::http::{free_port, request};
use crate::common::sys::wait_for;

/// Browser tests take turns: two Chromiums at once on two cores make timings meaningless.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub struct Browser {
    pub rt: tokio::runtime::Runtime,
    pub client: Client,
    /// The dashboard's origin, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    name: String,
    driver_addr: String,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

/// Where a failing test's screenshot goes: `target/tmp/browser-screenshots/NAME.png`.
pub fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("browser-screenshots")
        .join(format!("{name}.png"))
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium for the test `name`, aimed at the
    /// Picket listening on `addr`.
    pub fn start(name: &str, addr: &str) -> Browser {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let port = free_port();
        let driver_addr = format!("127.0.0.1:{port}");
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting /usr/bin/chromedriver (package chromium-driver; the README's test command installs it)");
        wait_for("chromedriver", Duration::from_secs(20), || {
            std::net::TcpStream::connect(&driver_addr).ok().map(|_| ())
        });
        let profile = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let caps = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = rt
            .block_on(
                ClientBuilder::new(connector)
                    .capabilities(caps)
                    .connect(&format!("http://{driver_addr}")),
            )
            .expect("a Chromium session from chromedriver");
        let session = rt
            .block_on(client.session_id())
            .unwrap()
            .expect("a session id");
        Browser {
            rt,
            client,
            base: format!("http://{addr}"),
            name: name.to_string(),
            driver_addr,
            session,
            driver,
            _profile: profile,
            _turn: turn,
        }
    }

    /// Runs the test's browser steps.
    pub fn run<T>(&self, steps: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(steps)
    }

    /// The browser console's messages since the last call (level, text).
    pub fn console(&self) -> Vec<(String, String)> {
        let r = request(
            &self.driver_addr,
            "POST",
            &format!("/session/{}/se/log", self.session),
            &[("Content-Type", "application/json")],
            Some(r#"{"type":"browser"}"#),
        );
        let log = r.json();
        let entries = log["value"]
            .as_array()
            .unwrap_or_else(|| panic!("ChromeDriver gave no browser log: {}", r.body));
        entries
            .iter()
            .map(|e| {
                (
                    e["level"].as_str().unwrap_or("").to_string(),
                    e["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// Fails on any script error in the console. Failed requests the test provoked on
    /// purpose (a 401 before login, a refused change) are network messages, not errors
    /// of the dashboard's code, and are left to the test's own assertions.
    pub fn assert_no_script_errors(&self) {
        let errors: Vec<_> = self
            .console()
            .into_iter()
            .filter(|(level, text)| level == "SEVERE" && !text.contains("Failed to load resource"))
            .collect();
        assert!(
            errors.is_empty(),
            "script errors in the browser console: {errors:#?}"
        );
    }

    /// Sends a Chrome DevTools Protocol command through ChromeDriver (for what WebDriver
    /// cannot do, such as blocking a URL to cut the live stream).
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        let r = request(
            &self.driver_addr,
            "POST",
            &format!("/session/{}/goog/cdp/execute", self.session),
            &[("Content-Type", "application/json")],
            Some(&json!({ "cmd": cmd, "params": params }).to_string()),
        );
        assert_eq!(r.status, 200, "CDP {cmd}: {}", r.body);
        r.json()["value"].clone()
    }

    fn save_screenshot(&self) {
        let r = request(
            &self.driver_addr,
            "GET",
            &format!("/session/{}/screenshot", self.session),
            &[],
            None,
        );
        let png = r.json()["value"]
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
        if let Some(png) = png {
            let path = screenshot_path(&self.name);
            let _ = std::fs::create_dir_all(path.parent().unwrap());
            if std::fs::write(&path, png).is_ok() {
                eprintln!(
                    "browser test {} failed: screenshot {}",
                    self.name,
                    path.display()
                );
            }
        }
        for (level, text) in self.console() {
            eprintln!("browser console: {level} {text}");
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Nothing here may panic: a panic while the test's own panic unwinds aborts the
        // whole test binary.
        if std::thread::panicking() {
            let _ =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.save_screenshot()));
        }
        // Ends the session: ChromeDriver quits its Chromium.
        let _ = std::panic::catch_unwind(|| {
            request(
                &self.driver_addr,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                None,
            )
        });
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Browser-side helpers, used inside [`Browser::run`].
pub struct Page<'a>(pub &'a Client);

impl Page<'_> {
    pub async fn goto(&self, url: &str) {
        self.0
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Waits up to `timeout` for an element matching `css`.
    pub async fn wait(&self, css: &str, timeout: Duration) -> fantoccini::elements::Element {
        self.0
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} within {timeout:?}: {e}"))
    }

    /// Waits for `css` (up to 5 s) and clicks it.
    pub async fn click(&self, css: &str) {
        self.wait(css, Duration::from_secs(5))
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    pub async fn all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.0.find_all(Locator::Css(css)).await.unwrap_or_default()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.0
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Calls the API from the page, with the page's session and CSRF token, as the
    /// dashboard would: `{status, body}`.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.0
            .execute_async(
                r#"const [method, path, body, done] = arguments;
                fetch('/api/session', {credentials: 'same-origin'})
                  .then((r) => r.json())
                  .then((s) => fetch(path, {method, credentials: 'same-origin',
                      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf || ''},
                      body: body === null ? undefined : JSON.stringify(body)}))
                  .then(async (r) => done({status: r.status, body: await r.text()}))
                  .catch((e) => done({status: 0, body: String(e)}));"#,
                vec![json!(method), json!(path), body.unwrap_or(Value::Null)],
            )
            .await
            .unwrap_or_else(|e| panic!("fetch {method} {path} from the page: {e}"))
    }

    /// Logs in through the login page and waits for the dashboard to know the role.
    pub async fn login(&self, base: &str, user: &str, password: &str, role: &str) {
        // The dashboard sends an unauthenticated visitor to the login page.
        self.goto(&format!("{base}/")).await;
        self.wait("#login-submit", Duration::from_secs(10)).await;
        let name = self.wait("#username", Duration::from_secs(5)).await;
        name.send_keys(user).await.unwrap();
        let pw = self.wait("#password", Duration::from_secs(5)).await;
        pw.send_keys(password).await.unwrap();
        self.wait("#login-submit:not([disabled])", Duration::from_secs(5))
            .await
            .click()
            .await
            .unwrap();
        self.wait(
            &format!("body[data-role=\"{role}\"]"),
            Duration::from_secs(10),
        )
        .await;
    }

    /// `true` while a JavaScript dialog (alert, confirm) is open: an injected script ran.
    pub async fn dialog_open(&self) -> bool {
        self.0.get_alert_text().await.is_ok()
    }

    /// Polls `f` every 50 ms until it gives `Some`, or panics naming `what`.
    pub async fn until<T, F, Fut>(&self, what: &str, timeout: Duration, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let start = Instant::now();
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
