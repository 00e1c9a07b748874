//! Step 6: explanation. Every reading, hit, block and near miss, in words an analyst reads.

use super::*;

impl Classifier {
    pub(super) fn word_text(&self, s: &Sent<'_>, m: Option<M>) -> String {
        match m {
            Some(m) => (m.first..=m.last.min(s.end.saturating_sub(1)))
                .map(|t| s.word(t).to_owned())
                .collect::<Vec<_>>()
                .join(" "),
            None => String::new(),
        }
    }

    pub(super) fn side_names(&self, sides: u64) -> String {
        let names: Vec<&str> = (0..self.sides.len())
            .filter(|&i| sides & (1 << i) != 0)
            .map(|i| self.sides[i].as_str())
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join("+")
        }
    }

    /// A reading for people: "rejected (reject): active; agent Kremlin (russia, subject);
    /// object truce (ceasefire); asserted".
    pub(super) fn describe(&self, r: &Reading, norm: &Normalized, text: &str) -> String {
        let quote = |m: M| {
            let a = norm.tokens[m.first as usize].orig_start as usize;
            let b = norm.tokens[m.last as usize].orig_end as usize;
            text.get(a..b).unwrap_or("").to_owned()
        };
        let agent = match r.agent {
            Some(a) => format!(
                "{} ({}, {})",
                a.mention.map(quote).unwrap_or_default(),
                self.side_names(a.sides),
                a.by.name()
            ),
            None => "none".into(),
        };
        let objects: Vec<String> = r
            .objects
            .iter()
            .map(|o| match o.tag {
                Tag::Object(f) => format!("{} ({})", quote(*o), self.families[f as usize]),
                _ => quote(*o),
            })
            .collect();
        let modality = match r.modality {
            Modality::Asserted => "asserted".to_owned(),
            Modality::Refused => "refused (an acceptance refused is a rejection)".to_owned(),
            Modality::Open => "with reservations".to_owned(),
            Modality::Blocked(why) => format!("not asserted: {why}"),
        };
        format!(
            "{} ({}): {}; agent {agent}; object {}; {modality}{}",
            quote(r.pred),
            self.stances[r.stance as usize],
            r.construction.name(),
            if objects.is_empty() {
                "none".into()
            } else {
                objects.join(", ")
            },
            match r.conditioned {
                Cond::Strong => "; conditioned",
                Cond::Until => "; until",
                Cond::None => "",
            }
        )
    }

    /// For each signal not emitted, a frame whose stance and object were present but not
    /// read together, and what it lacked.
    pub(super) fn near_misses(
        &self,
        norm: &Normalized,
        mentions: &[M],
        title: &str,
        summary: &str,
        emitted: &[(SignalKind, usize)],
        ex: &mut Explanation,
    ) {
        for frame in &self.frames {
            if emitted.iter().any(|(k, _)| *k == frame.signal)
                || ex.blocked.iter().any(|b| b.signal == frame.signal)
            {
                continue;
            }
            for sentence in &norm.sentences {
                let ms = mentions
                    .iter()
                    .filter(|m| m.first >= sentence.first && m.first < sentence.end);
                let mut have_stance = false;
                let mut have_object = false;
                let mut have_agent = false;
                for m in ms {
                    match m.tag {
                        Tag::Pred(st, _) if st == frame.stance => have_stance = true,
                        Tag::Object(f) if f == frame.object => have_object = true,
                        Tag::Actor(side) if side == frame.agent => have_agent = true,
                        _ => {}
                    }
                }
                let mut missing = Vec::new();
                if !have_stance {
                    missing.push(format!(
                        "a {} predicate",
                        self.stances[frame.stance as usize]
                    ));
                }
                if !have_object {
                    missing.push(format!("a {} object", self.families[frame.object as usize]));
                }
                if !have_agent {
                    missing.push(format!("an actor of {}", self.sides[frame.agent as usize]));
                }
                if missing.len() == 1 {
                    ex.partial.push(Partial {
                        rule: frame.name.clone(),
                        signal: frame.signal,
                        missing,
                        sentence: field_text(title, summary, sentence.field)
                            [sentence.orig_start as usize..sentence.orig_end as usize]
                            .to_owned(),
                    });
                    break;
                }
            }
        }
    }
}
