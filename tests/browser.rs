//! The web console in a real browser: headless Chromium driven through ChromeDriver
//! (Debian's `chromium` and `chromium-driver`; `.ci/ensure-services` installs them). Every
//! test is named `browser_*`, so `cargo test browser` runs them; each starts the service, a
//! ChromeDriver on a port of its own and a fresh browser. A screenshot of every page visited
//! is written to `<target>/console-screenshots/` on each run, for a person to look at.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use suspense_tests::app::{spawn_app, token, TestApp};
use suspense_tests::Backend;

/// ChromeDriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

async fn driver() -> Driver {
    let port = free_port();
    let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
    let child = Command::new(&program)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {program} (install chromium-driver, or run .ci/ensure-services): {e}"
            )
        });
    // Owned at once, so it is stopped however this ends.
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}")
}

/// A fresh headless Chromium.
async fn browser(driver: &Driver) -> Client {
    let mut options = json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1366,1100", "--lang=zh-CN"],
    });
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    if std::path::Path::new(&binary).exists() {
        options["binary"] = Value::String(binary);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".to_owned(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".to_owned(), options);
    // ChromeDriver speaks plain HTTP on the loopback: no TLS.
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("no browser session: {e}"))
}

/// Where screenshots go: `<target>/console-screenshots`.
fn screenshots() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    // target/<profile>/deps/<test>
    let target = exe
        .ancestors()
        .nth(3)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

struct Person<'a> {
    c: Client,
    app: &'a TestApp,
}

impl Person<'_> {
    async fn go(&self, path: &str) {
        self.c
            .goto(&self.app.url(path))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }

    async fn sign_in(&self, user: &str) {
        self.go("/console/sign-in").await;
        self.fill("#token", token(user)).await;
        self.click("#sign-in").await;
        self.c
            .wait()
            .for_element(Locator::Css("#user"))
            .await
            .unwrap_or_else(|e| panic!("{user} signed in: {e}"));
    }

    async fn sign_out(&self) {
        self.click("#sign-out").await;
        self.c
            .wait()
            .for_element(Locator::Css("#token"))
            .await
            .unwrap_or_else(|e| panic!("signed out: {e}"));
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self
            .c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
    }

    async fn choose(&self, css: &str, value: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
    }

    async fn click(&self, css: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
    }

    /// The text of `css` once it is there, read again if the page replaced the element
    /// between finding and reading it.
    async fn text(&self, css: &str) -> String {
        let mut last_error = String::new();
        for _ in 0..20 {
            let element = self
                .c
                .wait()
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"));
            match element.text().await {
                Ok(text) => return text,
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{css}: {last_error}")
    }

    async fn has(&self, css: &str) -> bool {
        self.c.find(Locator::Css(css)).await.is_ok()
    }

    async fn source(&self) -> String {
        self.c.source().await.unwrap_or_default()
    }

    async fn screenshot(&self, name: &str) {
        let png = self
            .c
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        std::fs::write(screenshots().join(format!("{name}.png")), png)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Submits the form `form` of the item page and waits for the page it leads to.
    async fn submit(&self, form: &str) {
        let before = self.c.find(Locator::Css("html")).await.ok();
        self.click(&format!("#{form} button[type=submit]")).await;
        // The form posts and the answer is a new page: wait until this one has gone, or the
        // old `#status` would be read while the new page replaces it.
        if let Some(before) = before {
            for _ in 0..200 {
                if before.tag_name().await.is_err() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        self.c
            .wait()
            .for_element(Locator::Css("#status"))
            .await
            .unwrap_or_else(|e| panic!("after {form}: {e}"));
    }

    async fn close(self) {
        let _ = self.c.close().await;
    }
}

#[tokio::test]
async fn browser_works_an_item_from_booking_to_an_approved_write_off() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = app.open_item("BROWSER-1", "8800.00").await;
    let driver = driver().await;

    let olivia = Person {
        c: browser(&driver).await,
        app: &app,
    };
    olivia.sign_in("olivia").await;
    olivia.screenshot("worklist").await;
    assert!(olivia.source().await.contains("BROWSER-1"));
    olivia
        .click(&format!("a[href=\"/console/items/{id}\"]"))
        .await;
    assert_eq!(olivia.text("#status").await, "未结清");

    // Bad input through a form: the API's reason beside the field, nothing written.
    let head = app.log_head().await;
    olivia.fill("#clearing-reference", "CLR-9").await;
    olivia.fill("#clearing-amount", "abc").await;
    olivia.submit("form-clearing").await;
    let reason = olivia.text("#clearing-amount-error").await;
    assert!(!reason.is_empty());
    olivia.screenshot("item-refused").await;
    assert_eq!(app.log_head().await, head);

    olivia.choose("#classify-category", "system_failure").await;
    olivia.choose("#classify-code", "SYS-OUTAGE").await;
    olivia.submit("form-classify").await;
    assert!(olivia.text("#cause").await.contains("SYS-OUTAGE"));
    olivia.choose("#resolve-method", "written_off").await;
    olivia.fill("#resolve-note", "无法联系受益人").await;
    olivia.submit("form-resolve").await;
    assert_eq!(olivia.text("#status").await, "待审批");
    assert!(
        !olivia.has("#form-approve").await,
        "no approval for its maker"
    );
    olivia.screenshot("item-proposed").await;
    olivia.sign_out().await;

    olivia.sign_in("sam").await;
    olivia.go("/console/approvals").await;
    olivia.screenshot("approvals").await;
    olivia
        .click(&format!("a[href=\"/console/items/{id}\"]"))
        .await;
    olivia.fill("#approve-note", "同意核销").await;
    olivia.submit("form-approve").await;
    assert_eq!(olivia.text("#status").await, "已结清");
    let timeline = olivia.text("#timeline").await;
    for expected in [
        "挂账登记",
        "归因分类",
        "提请结清",
        "结清",
        "olivia",
        "sam",
        "console-",
    ] {
        assert!(
            timeline.contains(expected),
            "timeline shows {expected}: {timeline}"
        );
    }
    olivia.screenshot("item-resolved").await;

    // The same page in English.
    olivia.click("#switch-language").await;
    assert_eq!(olivia.text("#status").await, "Resolved");
    assert!(olivia
        .text("#timeline")
        .await
        .contains("Resolution proposed"));
    olivia.screenshot("item-resolved-en").await;
    olivia.close().await;
}

#[tokio::test]
async fn browser_draws_the_overview_and_keeps_a_reporter_from_the_worklist() {
    let app = spawn_app(Backend::Sqlite).await;
    for n in 0..6 {
        let id = app.open_item(&format!("BROWSER-CHART-{n}"), "120.00").await;
        let category = ["system_failure", "operational_error", "external_cause"][n % 3];
        let code = ["SYS-OUTAGE", "OP-KEYING", "EXT-PARTNER"][n % 3];
        let classified = app
            .post(
                &format!("/v1/items/{id}/classify"),
                "olivia",
                json!({"category": category, "code": code}),
            )
            .await;
        assert!(classified.status().is_success(), "{code}");
    }
    let driver = driver().await;
    let rita = Person {
        c: browser(&driver).await,
        app: &app,
    };
    rita.sign_in("rita").await;
    rita.go("/console/overview").await;
    rita.c
        .wait()
        .for_element(Locator::Css("#chart-aging[data-drawn=\"true\"] canvas"))
        .await
        .unwrap_or_else(|e| panic!("the aging chart is drawn: {e}"));
    for chart in ["chart-aging", "chart-pareto", "chart-trend"] {
        let painted = rita
            .c
            .execute(
                "const canvas = document.querySelector('#' + arguments[0] + ' canvas');
                 if (!canvas) { return 0; }
                 const pixels = canvas.getContext('2d')
                     .getImageData(0, 0, canvas.width, canvas.height).data;
                 let painted = 0;
                 for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { painted++; } }
                 return painted;",
                vec![json!(chart)],
            )
            .await
            .unwrap_or_else(|e| panic!("{chart}: {e}"));
        assert!(
            painted.as_u64().unwrap_or(0) > 1000,
            "{chart} has something drawn on it: {painted}"
        );
    }
    rita.screenshot("overview").await;
    // A reporter is not shown the worklist, nor an item's actions.
    assert!(!rita.has("a[href=\"/console/worklist\"]").await);
    rita.go("/console/worklist").await;
    assert_eq!(rita.text("h1").await, "您的角色不能执行此操作。");
    rita.screenshot("reporter-refused").await;
    assert!(!rita.has("form.action").await);
    rita.close().await;
}
