//! Step 5: scores and conflicts. Per signal the noisy-or of its hits; one stance per actor and topic, the headline settling a conflict.

use super::*;

impl Classifier {
    /// Per signal, the noisy-or of its hits (the best per frame and field); then per topic
    /// one stance: a title hit beats a summary one, conditional beats acceptance, and a tie
    /// goes to the stronger score.
    ///
    /// One function: the per-signal scores and the per-topic conflict pass share the same
    /// best-hit table.
    pub(super) fn resolve(
        &self,
        hits: &[Hit],
    ) -> (Vec<(SignalKind, usize)>, [f32; 7], Vec<String>) {
        let mut scores = [0f32; 7];
        let mut best: [Option<usize>; 7] = [None; 7];
        let mut seen: Vec<(usize, Field)> = Vec::new();
        let mut order: Vec<usize> = (0..hits.len()).collect();
        order.sort_by(|&a, &b| hits[b].score.total_cmp(&hits[a].score));
        for &hi in &order {
            let h = &hits[hi];
            if seen.contains(&(h.frame, h.field)) {
                continue;
            }
            seen.push((h.frame, h.field));
            let k = self.frames[h.frame].signal.index();
            scores[k] = 1.0 - (1.0 - scores[k]) * (1.0 - h.score);
            if best[k].is_none_or(|b| h.score > hits[b].score) {
                best[k] = Some(hi);
            }
        }
        let mut candidates: Vec<SignalKind> = SignalKind::ALL
            .into_iter()
            .filter(|k| scores[k.index()] >= self.settings.threshold)
            .collect();
        let mut settled = Vec::new();
        let in_title = |k: SignalKind| {
            hits.iter().any(|h| {
                self.frames[h.frame].signal == k
                    && h.field == Field::Title
                    && h.score >= self.settings.threshold
            })
        };
        for group in [
            &[
                SignalKind::RussiaAccepts,
                SignalKind::RussiaRejects,
                SignalKind::RussiaConditional,
            ][..],
            &[SignalKind::UsAidPaused, SignalKind::UsAidResumed][..],
            &[SignalKind::UsIntelPaused, SignalKind::UsIntelResumed][..],
        ] {
            let present: Vec<SignalKind> = candidates
                .iter()
                .copied()
                .filter(|k| group.contains(k))
                .collect();
            if present.len() < 2 {
                continue;
            }
            // Two stances about different ceasefires are two events: both stand.
            let scopes: Vec<Option<ObjectKey>> = present
                .iter()
                .map(|k| {
                    best[k.index()].map(|hi| ObjectKey {
                        family: String::new(),
                        scope: hits[hi].scope.0.clone(),
                        hours: hits[hi].scope.1,
                    })
                })
                .collect();
            let apart = scopes.iter().enumerate().all(|(i, a)| {
                scopes.iter().skip(i + 1).all(|b| match (a, b) {
                    (Some(a), Some(b)) => a.agrees(b) == Some(false),
                    _ => false,
                })
            });
            // Only objects of one family compare: "rejects the truce; any truce depends on
            // a broader peace agreement" (a ceasefire, then a settlement) is one stance.
            let families: Vec<u8> = present
                .iter()
                .filter_map(|k| best[k.index()].map(|hi| self.frames[hits[hi].frame].object))
                .collect();
            if apart && families.windows(2).all(|w| w[0] == w[1]) {
                continue;
            }
            let titled: Vec<SignalKind> =
                present.iter().copied().filter(|&k| in_title(k)).collect();
            let pool = if titled.is_empty() {
                present.clone()
            } else {
                titled
            };
            let winner = if pool.contains(&SignalKind::RussiaConditional)
                && pool.contains(&SignalKind::RussiaAccepts)
                && !pool.contains(&SignalKind::RussiaRejects)
            {
                SignalKind::RussiaConditional
            } else {
                *pool
                    .iter()
                    .max_by(|a, b| {
                        scores[a.index()]
                            .total_cmp(&scores[b.index()])
                            .then_with(|| rank(**a).cmp(&rank(**b)))
                    })
                    .unwrap_or(&pool[0])
            };
            for k in present {
                if k != winner {
                    candidates.retain(|c| *c != k);
                    settled.push(format!(
                        "{k} dropped: one stance per topic, {winner} {}",
                        if in_title(winner) && !in_title(k) {
                            "is in the headline"
                        } else {
                            "scores higher or is more specific"
                        }
                    ));
                }
            }
        }
        let emitted = candidates
            .into_iter()
            .filter_map(|k| best[k.index()].map(|hi| (k, hi)))
            .collect();
        (emitted, scores, settled)
    }
}
