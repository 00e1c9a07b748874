//! Backtesting rules against a labelled corpus: per-signal precision, recall and F1, and
//! every miss with the rule that fired, or the rule that came closest and what stopped it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::classify::Classifier;
use crate::domain::SignalKind;

/// One labelled item (the shape of the shared `dev.jsonl`).
#[derive(Debug, Clone, Deserialize)]
pub struct Labelled {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    pub labels: Vec<String>,
    /// A note starting "borderline:" keeps the item out of the figures (as the shared
    /// `score-classifier` tool does).
    #[serde(default)]
    pub note: Option<String>,
}

/// One item the rules got wrong, for `eval --json`.
#[derive(Debug, Clone, Serialize)]
pub struct Wrong {
    pub id: String,
    pub want: Vec<&'static str>,
    pub got: Vec<&'static str>,
    pub title: String,
    /// Why: the frame that fired on a false alarm, or what stopped the frame of a miss.
    pub why: Vec<String>,
}

/// Counts for one signal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub tp: u32,
    pub fp: u32,
    pub fn_: u32,
}

/// The result of an evaluation.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub per_signal: [Counts; 7],
    pub none_items: u32,
    pub false_alarms_on_none: u32,
    /// Items noted "borderline:", classified but not counted.
    pub borderline: u32,
    /// Human-readable lines about each wrong item.
    pub misses: Vec<String>,
    pub wrong: Vec<Wrong>,
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        0.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

impl Report {
    pub fn micro(&self) -> (f64, f64, f64) {
        let tp: u32 = self.per_signal.iter().map(|c| c.tp).sum();
        let fp: u32 = self.per_signal.iter().map(|c| c.fp).sum();
        let fn_: u32 = self.per_signal.iter().map(|c| c.fn_).sum();
        let p = ratio(tp, tp + fp);
        let r = ratio(tp, tp + fn_);
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    }

    /// The last line, in the same form as the shared `score-classifier` tool.
    pub fn summary_line(&self) -> String {
        let (p, r, f) = self.micro();
        format!(
            "micro_precision={p:.3} micro_recall={r:.3} micro_f1={f:.3} false_alarms_on_none={}/{}",
            self.false_alarms_on_none, self.none_items
        )
    }

    /// The figures and the wrong items as one JSON object (`eval --json`).
    pub fn to_json(&self) -> serde_json::Value {
        let (p, r, f) = self.micro();
        let per_signal: serde_json::Map<String, serde_json::Value> = SignalKind::ALL
            .iter()
            .map(|k| {
                let c = self.per_signal[k.index()];
                let (p, r) = (ratio(c.tp, c.tp + c.fp), ratio(c.tp, c.tp + c.fn_));
                let f = if p + r > 0.0 {
                    2.0 * p * r / (p + r)
                } else {
                    0.0
                };
                (
                    k.as_str().to_owned(),
                    serde_json::json!({
                        "tp": c.tp, "fp": c.fp, "fn": c.fn_,
                        "precision": p, "recall": r, "f1": f,
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "micro_precision": p,
            "micro_recall": r,
            "micro_f1": f,
            "none_items": self.none_items,
            "false_alarms_on_none": self.false_alarms_on_none,
            "borderline_not_counted": self.borderline,
            "per_signal": per_signal,
            "wrong": self.wrong,
        })
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:20} {:>4} {:>4} {:>4} {:>6} {:>6} {:>6}",
            "signal", "tp", "fp", "fn", "prec", "recall", "f1"
        );
        for k in SignalKind::ALL {
            let c = self.per_signal[k.index()];
            let p = ratio(c.tp, c.tp + c.fp);
            let r = ratio(c.tp, c.tp + c.fn_);
            let f = if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
            let _ = writeln!(
                s,
                "{:20} {:4} {:4} {:4} {:6.3} {:6.3} {:6.3}",
                k.as_str(),
                c.tp,
                c.fp,
                c.fn_,
                p,
                r,
                f
            );
        }
        if !self.misses.is_empty() {
            let _ = writeln!(s, "\nmisses:");
            for m in &self.misses {
                let _ = writeln!(s, "{m}");
            }
        }
        let _ = writeln!(s, "\n{}", self.summary_line());
        s
    }
}

/// Evaluates `items` with `classifier`.
///
/// One pass over the items filling the confusion counts, per signal and overall, and
/// the lists of misses; the report is that pass's output.
pub fn evaluate(classifier: &Classifier, items: &[Labelled]) -> Report {
    let mut report = Report::default();
    for item in items {
        let title = item.title.as_deref().unwrap_or("");
        let summary = item.summary.as_deref().unwrap_or("");
        let want: BTreeSet<SignalKind> =
            item.labels.iter().filter_map(|l| l.parse().ok()).collect();
        let ex = classifier.explain(title, summary);
        if item
            .note
            .as_deref()
            .is_some_and(|n| n.trim_start().starts_with("borderline:"))
        {
            report.borderline += 1;
            continue;
        }
        let got: BTreeSet<SignalKind> = ex.signals.iter().map(|s| s.kind).collect();
        for k in SignalKind::ALL {
            let c = &mut report.per_signal[k.index()];
            match (want.contains(&k), got.contains(&k)) {
                (true, true) => c.tp += 1,
                (false, true) => c.fp += 1,
                (true, false) => c.fn_ += 1,
                (false, false) => {}
            }
        }
        if want.is_empty() {
            report.none_items += 1;
            if !got.is_empty() {
                report.false_alarms_on_none += 1;
            }
        }
        if want == got {
            continue;
        }
        let names = |set: &BTreeSet<SignalKind>| {
            if set.is_empty() {
                "none".to_string()
            } else {
                set.iter().map(|k| k.as_str()).collect::<Vec<_>>().join("+")
            }
        };
        let mut m = format!(
            "- {}: want {} got {} | {}",
            item.id,
            names(&want),
            names(&got),
            short(if title.is_empty() { summary } else { title }, 100)
        );
        for s in ex.signals.iter().filter(|s| !want.contains(&s.kind)) {
            let _ = write!(
                m,
                "\n    false alarm {}: rule {} matched {:?} in: {}",
                s.kind,
                s.evidence.rule,
                s.evidence.words,
                short(&s.evidence.sentence, 160)
            );
        }
        for k in want.iter().filter(|k| !got.contains(k)) {
            let hits: Vec<_> = ex.hits.iter().filter(|h| h.kind == *k).collect();
            let blocked: Vec<_> = ex.blocked.iter().filter(|b| b.signal == *k).collect();
            let partial: Vec<_> = ex.partial.iter().filter(|p| p.signal == *k).collect();
            if !hits.is_empty() {
                for h in hits {
                    let _ = write!(
                        m,
                        "\n    missed {k}: rule {} fired at score {:.2} (below threshold or suppressed)",
                        h.evidence.rule, h.score
                    );
                }
            } else if !blocked.is_empty() {
                for b in blocked.iter().take(3) {
                    let _ = write!(
                        m,
                        "\n    missed {k}: rule {} vetoed by {} ({}) in: {}",
                        b.rule,
                        b.guard,
                        b.concept,
                        short(&b.sentence, 140)
                    );
                }
            } else if !partial.is_empty() {
                for p in partial.iter().take(3) {
                    let _ = write!(
                        m,
                        "\n    missed {k}: rule {} lacked {} in: {}",
                        p.rule,
                        p.missing.join(", "),
                        short(&p.sentence, 140)
                    );
                }
            } else {
                let _ = write!(m, "\n    missed {k}: no rule came close");
            }
        }
        let mut lines = m.lines();
        let headline = lines.next().unwrap_or("");
        report.wrong.push(Wrong {
            id: item.id.clone(),
            want: want.iter().map(|k| k.as_str()).collect(),
            got: got.iter().map(|k| k.as_str()).collect(),
            title: short(if title.is_empty() { summary } else { title }, 200),
            why: lines.map(|l| l.trim().to_owned()).collect(),
        });
        let _ = headline;
        report.misses.push(m);
    }
    report
}

fn short(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_explains() {
        let items = vec![
            Labelled {
                id: "a".into(),
                title: Some("Kremlin rejects the truce plan".into()),
                summary: None,
                labels: vec!["russia_rejects".into()],
                note: None,
            },
            Labelled {
                id: "b".into(),
                title: Some("Hamas accepts a ceasefire in Gaza".into()),
                summary: None,
                labels: vec!["none".into()],
                note: None,
            },
            Labelled {
                id: "c".into(),
                title: Some("Weather".into()),
                summary: None,
                labels: vec!["us_aid_paused".into()],
                note: None,
            },
            Labelled {
                id: "d".into(),
                title: Some("Kremlin rejects the truce plan".into()),
                summary: None,
                labels: vec!["none".into()],
                note: Some("borderline: counted neither way".into()),
            },
        ];
        let r = evaluate(&Classifier::builtin(), &items);
        assert_eq!(
            r.per_signal[SignalKind::RussiaRejects.index()],
            Counts {
                tp: 1,
                fp: 0,
                fn_: 0
            }
        );
        assert_eq!(
            r.per_signal[SignalKind::UsAidPaused.index()],
            Counts {
                tp: 0,
                fp: 0,
                fn_: 1
            }
        );
        assert_eq!((r.none_items, r.false_alarms_on_none), (1, 0));
        assert_eq!(r.borderline, 1);
        assert_eq!(r.misses.len(), 1);
        let json = r.to_json();
        assert_eq!(json["borderline_not_counted"], 1);
        assert_eq!(json["per_signal"]["russia_rejects"]["tp"], 1);
        assert_eq!(json["wrong"][0]["id"], "c");
        assert_eq!(json["wrong"][0]["want"][0], "us_aid_paused");
        assert!(
            json["wrong"][0]["why"][0]
                .as_str()
                .unwrap()
                .contains("no rule came close"),
            "{json}"
        );
        assert!(
            r.misses[0].contains("missed us_aid_paused: no rule came close"),
            "{:?}",
            r.misses
        );
        assert_eq!(
            r.summary_line(),
            "micro_precision=1.000 micro_recall=0.500 micro_f1=0.667 false_alarms_on_none=0/1"
        );
    }
}
