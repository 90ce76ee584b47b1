//! Import and export on the board: a CSV larger than ordinary forms are
//! allowed, its per-line report (bad lines named, the good ones imported,
//! people already here skipped), a strict import that takes nothing, a file
//! over the limit refused, and the export a spreadsheet reads safely.

mod common;

use common::app::{spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

fn leads(rows: usize) -> Vec<u8> {
    let mut csv = String::from("name,email,company,stage,value\n");
    for n in 0..rows {
        csv.push_str(&format!(
            "Lead {n:04},lead{n}@example.org,Company {n} with a long enough name,proposal,1000\n"
        ));
    }
    csv.push_str("No Email,not-an-address,Acme,proposal,10\n");
    csv.push_str("=HYPERLINK(\"http://evil.example\"),formula@example.org,Evil,proposal,5\n");
    csv.into_bytes()
}

#[tokio::test]
async fn a_csv_uploads_with_a_report_per_line_and_exports_back() {
    let app = spawn_app().await;
    app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let page = browser.get("/import").await;
    assert_eq!(page.status, 200);
    let csrf = page.csrf();
    let file = leads(400);
    assert!(file.len() > 16 * 1024, "larger than an ordinary form may be");

    let strict = browser
        .upload(
            "/import",
            &[("csrf", &csrf), ("strict", "yes")],
            ("file", "leads.csv", &file),
        )
        .await;
    assert_eq!(strict.status, 200, "{}", strict.body);
    assert!(strict.body.contains("Nothing was imported"), "{}", strict.body);
    let report = browser
        .upload("/import", &[("csrf", &csrf)], ("file", "leads.csv", &file))
        .await;
    assert_eq!(report.status, 200);
    assert!(
        report.body.contains("Imported 401, already present 0, bad lines 1."),
        "{}",
        report.body
    );
    assert!(
        report.body.contains("Line 402:") && report.body.contains("not-an-address"),
        "{}",
        report.body
    );
    let again = browser
        .upload("/import", &[("csrf", &csrf)], ("file", "leads.csv", &file))
        .await;
    assert!(again.body.contains("Imported 0, already present 401"), "{}", again.body);
    let forged = browser
        .upload("/import", &[("csrf", "wrong")], ("file", "leads.csv", &file))
        .await;
    assert_eq!(forged.status, 403);
    let empty = browser
        .upload("/import", &[("csrf", &csrf)], ("file", "none.csv", b""))
        .await;
    assert_eq!(empty.status, 422);

    let export = browser.get("/export?stage=proposal&q=lead%20000").await;
    assert_eq!(export.status, 200);
    assert_eq!(export.header("content-type"), "text/csv; charset=utf-8");
    assert!(export.header("content-disposition").contains("prospects.csv"));
    assert_eq!(
        export.body.lines().count(),
        1 + 10,
        "Lead 0000 to Lead 0009: {}",
        export.body
    );
    let all = browser.get("/export").await;
    assert!(
        all.body.contains("'=HYPERLINK"),
        "a formula exported as text: {}",
        all.body.lines().last().unwrap_or("")
    );
}

#[tokio::test]
async fn a_file_over_the_import_limit_is_refused() {
    let app = spawn_app_with("[http]\nmax_import_bytes = 20000\n").await;
    app.account("Ann", "ann@example.com", PASSWORD, "rep").await;
    let mut browser = app.browser();
    browser.log_in("ann@example.com", PASSWORD).await;
    let csrf = browser.get("/import").await.csrf();
    let refused = browser
        .upload("/import", &[("csrf", &csrf)], ("file", "big.csv", &leads(400)))
        .await;
    assert_eq!(refused.status, 413);
    let fits = browser
        .upload("/import", &[("csrf", &csrf)], ("file", "small.csv", &leads(50)))
        .await;
    assert_eq!(fits.status, 200, "{}", fits.body);
    assert_eq!(app.store.list_reps().await.unwrap().len(), 1);
}
