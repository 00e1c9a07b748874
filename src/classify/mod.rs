//! Scoring: which of the seven signals an item carries, and why.
//!
//! This module does no I/O and cannot fail once a pack is compiled: `classify` takes plain
//! text and returns signals with their evidence.
//!
//! # How an item is read
//! 1. Title and summary are normalised ([`text`]): lowercased, split into words and
//!    sentences; `U.S.` becomes `us`, `Russia's` becomes `russia` (marked possessive).
//! 2. One pass of a word trie finds every phrase of the pack ([`pack`]): actors by side,
//!    objects by family and scope, stance predicates by form, grammar and marker words;
//!    phrases inside a mask (`U.S.-brokered`, `humanitarian aid`) do not count.
//! 3. Each predicate of a sentence is read by its construction (active, passive, noun,
//!    judgement, object as subject): its object, its agent (subject, "by", possessive,
//!    adjunct, owner of a flow, speaker) and its modality (asserted, refused, open, or
//!    blocked by a negation, modal, demand, question, denial, history, condition ...).
//! 4. Frames turn (agent side, stance, object family) into signals; a hit scores the
//!    frame's weight × how the agent was found × the field's weight. One stance per actor
//!    and topic per item: the headline settles a conflict.
//!
//! ARCHITECTURE.md ("The reader") says how far this goes. `explain` shows every reading.

mod engine;
pub mod lang;
pub mod pack;
mod phrases;
pub mod text;

use std::sync::{Arc, OnceLock};

pub use engine::{Blocked, Classification, Classifier, Explanation, Partial};
pub use pack::{RuleOverlay, RulePack};

impl Classifier {
    /// The built-in rule pack, compiled once per process.
    pub fn builtin() -> Arc<Classifier> {
        static BUILTIN: OnceLock<Arc<Classifier>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                // The built-in pack is validated by this module's tests.
                Arc::new(
                    Classifier::compile(&RulePack::builtin())
                        .expect("the built-in rule pack compiles"),
                )
            })
            .clone()
    }

    /// The built-in pack with a config overlay applied.
    pub fn with_overlay(overlay: &RuleOverlay) -> Result<Classifier, Vec<String>> {
        let mut pack = RulePack::builtin();
        pack.apply(overlay)?;
        Classifier::compile(&pack)
    }
}

#[cfg(test)]
mod checklist;
#[cfg(test)]
mod tests;
