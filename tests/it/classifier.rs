//! The classifier's figures, as an analyst measures them with `eval`: on the shared labelled
//! corpus when it is present next to the project, and always on this project's own
//! sentences (tests/fixtures/own-sentences.jsonl, written for the project).

use std::path::Path;

use crate::helpers::*;

#[tokio::test]
async fn own_sentences_stay_right() {
    let app = TestApp::new("");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/own-sentences.jsonl");
    let out = app
        .cli(&[
            "eval",
            corpus.to_str().unwrap(),
            "--min-f1",
            "0.97",
            "--min-precision",
            "0.98",
            "--max-false-alarms",
            "0",
        ])
        .await;
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    // The same figures for a script: one JSON object.
    let out = app.cli(&["eval", corpus.to_str().unwrap(), "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&out)).expect("eval --json prints JSON");
    assert!(report["micro_f1"].as_f64().unwrap() >= 0.97, "{report}");
    assert_eq!(report["false_alarms_on_none"], 0, "{report}");
    assert!(
        report["per_signal"]["russia_rejects"]["tp"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(report["wrong"].is_array());
}

#[tokio::test]
async fn shared_dev_corpus_meets_the_issue_figures() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dev.jsonl");
    if !corpus.exists() {
        // Skipped only when asked to, loudly: .ci/run asks when the clone has no ../shared.
        assert!(
            std::env::var_os("CEASEFIRE_SKIP_SHARED").is_some(),
            "{} is missing; set CEASEFIRE_SKIP_SHARED=1 to run without the shared corpus",
            corpus.display()
        );
        eprintln!(
            "SKIPPED: {} is not here (CEASEFIRE_SKIP_SHARED is set)",
            corpus.display()
        );
        return;
    }
    let app = TestApp::new("");
    let out = app
        .cli(&[
            "eval",
            corpus.to_str().unwrap(),
            "--min-f1",
            "0.90",
            "--min-precision",
            "0.95",
            "--max-false-alarms",
            "1",
        ])
        .await;
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
}
