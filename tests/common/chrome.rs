//! A real browser for page tests: Debian's `chromium`, headless with a fresh
//! profile, driven over W3C WebDriver by `chromium-driver` (one per test,
//! on a free port, stopped when dropped). Helpers wait on a condition in
//! the page, save screenshots to the test output folder, and run axe-core
//! (fetched by scripts/install-test-assets) for accessibility violations.

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Chrome {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

/// Starts chromium-driver and a browser session, or (outside CI, with no
/// driver installed) counts the test as skipped.
pub async fn start(test: &str) -> Option<Chrome> {
    let installed = Command::new("chromedriver").arg("--version").output().is_ok();
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromedriver is missing (scripts/install-test-servers installs chromium and chromium-driver)"
        );
        super::skipped(
            test,
            "chromium-driver is not installed: run scripts/install-test-servers",
        );
        return None;
    }
    let port = super::imap::free_port();
    let mut driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    // The driver says on its output when it listens; the rest of its output is drained.
    let output = driver.stdout.take().expect("the driver's output");
    let (ready, listening) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(output).lines().map_while(Result::ok) {
            if line.contains("started successfully") {
                let _ = ready.send(());
            }
        }
    });
    tokio::task::spawn_blocking(move || listening.recv_timeout(PATIENCE))
        .await
        .expect("the wait")
        .unwrap_or_else(|_| panic!("chromedriver did not say it listens on {port}"));
    let profile = tempfile::tempdir().expect("a profile folder");
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1400,1000",
                     format!("--user-data-dir={}", profile.path().display())],
        }),
    );
    // The driver is on loopback: plain HTTP, no TLS stack.
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a browser session");
    Some(Chrome {
        client,
        driver,
        _profile: profile,
    })
}

impl Chrome {
    /// Ends the session (the browser quits) and stops the driver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Waits until `condition` (a JavaScript expression) is true in the page:
    /// the page itself checks it at once and again at every change of its
    /// document, and answers when it holds. A navigation ends that script;
    /// then it is asked again of the new page.
    pub async fn until(&self, condition: &str) {
        let deadline = Instant::now() + PATIENCE;
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const holds = () => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }};
             if (holds()) {{ done(true); return; }}
             const watch = new MutationObserver(() => {{ if (holds()) {{ watch.disconnect(); done(true); }} }});
             watch.observe(document, {{ subtree: true, childList: true, attributes: true, characterData: true }});"
        );
        loop {
            if self.client.execute_async(&script, vec![]).await.ok() == Some(Value::Bool(true)) {
                return;
            }
            if Instant::now() > deadline {
                let url = self
                    .client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                let source = self.client.source().await.unwrap_or_default();
                panic!("waited in vain for `{condition}` at {url}:\n{source}");
            }
        }
    }

    /// Clicks the element a CSS selector finds.
    pub async fn click(&self, selector: &str) {
        self.client
            .find(fantoccini::Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no {selector} on the page: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{selector} cannot be clicked: {e}"));
    }

    /// The value of a JavaScript expression in the page.
    pub async fn eval(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .expect("the script runs")
    }

    /// Saves a screenshot as `NAME.png` in the test output folder.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(&path, png).expect("save the screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// axe-core's violations in the page as it is now (`None`: axe-core absent, test skipped).
    pub async fn violations(&self, test: &str) -> Option<Vec<Value>> {
        let axe = super::test_asset("axe-core-4.14.1/axe.min.js", test)?;
        let source = std::fs::read_to_string(axe).expect("read axe-core");
        self.client
            .execute(&format!("{source}\nreturn true;"), vec![])
            .await
            .expect("inject axe-core");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
                   .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }))))
                   .catch(e => done([{ id: 'axe-failed', impact: 'critical', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .expect("axe runs");
        Some(result.as_array().cloned().unwrap_or_default())
    }

    /// Runs axe-core in the page; panics on a serious or critical violation.
    pub async fn accessible(&self, page: &str, test: &str) {
        let Some(violations) = self.violations(test).await else {
            return;
        };
        let serious: Vec<&Value> = violations
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        eprintln!(
            "axe on {page}: {} violation(s), {} serious or critical",
            violations.len(),
            serious.len()
        );
        for v in &violations {
            eprintln!("axe on {page}: {} ({}) {}", v["id"], v["impact"], v["nodes"]);
        }
        assert!(
            serious.is_empty(),
            "serious accessibility violations on {page}: {serious:#?}"
        );
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
