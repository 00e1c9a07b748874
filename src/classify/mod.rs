//! Scoring: which of the seven signals an item carries, and why.
//!
//! This module does no I/O and cannot fail once a pack is compiled: `classify` takes plain
//! text and returns signals with their evidence.
//!
//! # How a rule fires
//! 1. Title and summary are normalised ([`text`]): lowercased, split into words and
//!    sentences; `U.S.` becomes `us`, `Russia's` becomes `russia` (marked possessive).
//! 2. One Aho-Corasick pass finds every phrase of every concept and actor side; phrases
//!    inside a mask (`U.S.-brokered`, `humanitarian aid`) are dropped.
//! 3. In each sentence, each rule whose slots are all present is tried. Slots match in order,
//!    each within its gap of the one before and all within the rule's window. A leading
//!    `@side` slot is the verb's subject: the nearest actor before it in the same clause that
//!    can act (not a bare possessive), with actors joined by "and" counted together; a pronoun
//!    or no actor means the sentence's speaker. A later `@side` slot is the agent after
//!    "by".
//! 4. Guards veto a match: negation or speculation just before the verb or the subject,
//!    denial words inside it, modal words right after it, other conflicts in the sentence,
//!    item-level requirements. Questions never fire.
//! 5. A hit scores its rule's weight times the field's weight (the title weighs more). A
//!    signal's score is the noisy-or of its rules' hits, one per rule and field; a signal at
//!    or above the threshold is emitted, unless a rule of another emitted signal suppresses
//!    it ("agrees, but only if" is conditional, not acceptance).
//!
//! Rule order in the pack does not matter; every rule is tried.

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
