//! Step 2: mentions. Every phrase of the pack found in the text, masks applied, split phrases joined.

use super::*;

impl Classifier {
    /// Whether a sentence has the words of a stance and of an object family that may make a
    /// signal together, and the other things the word gate asks of it.
    pub(super) fn may_pair(&self, norm: &Normalized, s: &Sentence) -> MayPair {
        let (mut stance_bits, mut family_bits) = (0u64, 0u64);
        let mut actor = false;
        // An answer: a word of a stance that answers a proposal and another word, a
        // proposal's, within a few words of it ("rejected the plan", "the idea is premature"),
        // and not followed by its content ("announced plans under which").
        const NEAR: usize = 6;
        let (mut last_answer, mut last_proposal) = (None::<usize>, None::<usize>);
        // "laid out a list of conditions", "seeks concessions": a condition that names its
        // content answers the ceasefire named before it. (A phrase's gate word is its rarest,
        // which may be the content word itself.)
        let mut last_condition = None::<usize>;
        // A proposal's word seen at the previous token, and whether a stance came before it.
        let mut pending: Option<(usize, bool)> = None;
        let mut answer = false;
        let tokens = &norm.tokens[s.first as usize..s.end as usize];
        for (k, t) in tokens.iter().enumerate() {
            // What the filters may hold: the stance and family words answer exactly for the
            // stance and object gates, the other gates are asked when it matters.
            let (key, len) = (t.key, t.len);
            let may = self.word_filters.candidates(key, len);
            if let Some((j, answered)) = pending.take()
                && !self.proposal_content_gate.contains(key, len)
            {
                last_proposal = Some(j);
                answer |= answered;
            }
            if may == 0 {
                continue;
            }
            if may & W_ACTOR != 0 && !actor {
                actor = self.actor_gate.contains_exactly(key, len);
            }
            let mut answering = false;
            if may & W_STANCE != 0 {
                let bits = self.stance_words.of(key, len);
                stance_bits |= bits;
                answering |= self.st.answer_stances & bits != 0;
                if bits
                    .checked_shr(u32::from(self.st.condition))
                    .is_some_and(|b| b & 1 == 1)
                {
                    last_condition = Some(k);
                }
            }
            if may & W_CONDITION_CONTENT != 0
                && last_condition.is_some_and(|j| k - j <= NEAR)
                && self.condition_content_gate.contains_exactly(key, len)
            {
                answer = true;
            }
            // A word may be both ("offer"): a stance here, a proposal there.
            if may & W_PROPOSAL != 0 && self.proposal_gate.contains_exactly(key, len) {
                pending = Some((k, last_answer.is_some_and(|j| k - j <= NEAR)));
            }
            if answering {
                answer |= last_proposal.is_some_and(|j| k - j <= NEAR);
                last_answer = Some(k);
            }
            if may & W_OBJECT != 0 {
                family_bits |= self.family_words.of(key, len);
            }
        }
        answer |= pending.is_some_and(|(_, answered)| answered);
        MayPair {
            pair: self.may_pair_bits(family_bits, stance_bits),
            proposable: family_bits & self.st.proposable_families != 0,
            answer,
            actor,
        }
    }

    /// Every phrase mention, sorted by position; actor and concept mentions inside masks
    /// kept aside in `masks` (an owner of a flow may still be one).
    ///
    /// One scan of the trie's matches with its state (open masks, the longest match per
    /// start) carried along; split, the state would travel through every part.
    pub(super) fn find_mentions(
        &self,
        norm: &Normalized,
        (ids, stack): (&mut Vec<u32>, &mut Vec<(u32, usize)>),
        out: &mut Vec<M>,
        masks: &mut Vec<M>,
        [title, summary]: [&str; 2],
        only: Option<&[bool]>,
    ) {
        out.clear();
        masks.clear();
        let mut mask_spans: Vec<M> = Vec::new();
        // A mask is a compound ("Russia-Ukraine war", "US-brokered"): punctuation between
        // its words ("Russia, Ukraine agree") breaks it.
        let joined = |first: u32, last: u32| {
            (first..last).all(|t| {
                let a = &norm.tokens[t as usize];
                let b = &norm.tokens[t as usize + 1];
                let text = if norm.sentences[a.sentence as usize].field == Field::Title {
                    title
                } else {
                    summary
                };
                text.get(a.orig_end as usize..b.orig_start as usize)
                    .is_none_or(|g| !g.contains([',', ':', ';', '(', ')']))
            })
        };
        // Phrases come by first token; each token's group is put longest first as it ends,
        // so the list needs no sort of its own.
        let mut group = 0usize;
        let longest_first = |out: &mut Vec<M>, from: usize| {
            let g = &mut out[from..];
            for i in 1..g.len() {
                let mut j = i;
                while j > 0 && g[j - 1].last < g[j].last {
                    g.swap(j - 1, j);
                    j -= 1;
                }
            }
        };
        let mut emit = |f: phrases::Found<Tag>| {
            let m = M {
                tag: f.tag,
                first: f.first,
                last: f.last,
            };
            match f.tag {
                Tag::MaskActor | Tag::MaskConcept => {
                    if joined(f.first, f.last) {
                        mask_spans.push(m)
                    }
                }
                _ => {
                    if out.get(group).is_some_and(|g| g.first != m.first) {
                        longest_first(out, group);
                        group = out.len();
                    }
                    out.push(m)
                }
            }
        };
        match only {
            None => self.phrases.find(norm, ids, stack, &mut emit),
            Some(read) => {
                for (sentence, _) in norm.sentences.iter().zip(read).filter(|(_, r)| **r) {
                    let range = sentence.first as usize..sentence.end as usize;
                    self.phrases.find_in(norm, range, ids, stack, &mut emit);
                }
            }
        }
        longest_first(out, group);
        let mut sorted = true;
        if self.year_history {
            for (i, t) in norm.tokens.iter().enumerate() {
                let bytes = t.key.to_le_bytes();
                if t.len == 4
                    && (bytes.starts_with(b"19") || bytes.starts_with(b"20"))
                    && bytes[2..4].iter().all(u8::is_ascii_digit)
                {
                    out.push(M {
                        tag: Tag::Gram(G::History),
                        first: i as u32,
                        last: i as u32,
                    });
                    sorted = false;
                }
            }
        }
        if !mask_spans.is_empty() {
            let inside = |m: &M, kind: Tag| {
                mask_spans.iter().any(|k| {
                    k.tag == kind
                        && m.first <= k.last
                        && k.first <= m.last
                        && !(m.first <= k.first
                            && m.last >= k.last
                            && m.last - m.first > k.last - k.first)
                })
            };
            let mut kept = Vec::with_capacity(out.len());
            for m in out.drain(..) {
                let masked = match m.tag {
                    Tag::Actor(_) => inside(&m, Tag::MaskActor),
                    Tag::Object(_) | Tag::Pred(..) => inside(&m, Tag::MaskConcept),
                    _ => false,
                };
                if masked {
                    masks.push(m);
                } else {
                    kept.push(m);
                }
            }
            *out = kept;
        }
        if out.iter().any(|m| matches!(m.tag, Tag::SplitHead(..))) {
            self.join_splits(norm, out);
            sorted = false;
        }
        if !sorted {
            out.sort_by_key(|m| (m.first, std::cmp::Reverse(m.last)));
        }
        debug_assert!(out.is_sorted_by_key(|m| (m.first, std::cmp::Reverse(m.last))));
    }

    /// A split phrase's verb is a predicate when its rest follows in the sentence within
    /// eight words ("puts weapons deliveries to Ukraine on hold"); the rest's own words
    /// ("hold") are then no predicate of their own.
    pub(super) fn join_splits(&self, norm: &Normalized, out: &mut Vec<M>) {
        let mut joined: Vec<(M, M)> = Vec::new();
        for h in out.iter() {
            let Tag::SplitHead(id, form) = h.tag else {
                continue;
            };
            let sentence = norm.tokens[h.first as usize].sentence;
            if let Some(t) = out
                .iter()
                .filter(|t| {
                    t.tag == Tag::SplitTail(id)
                        && t.first > h.last
                        && t.first <= h.last + 8
                        && norm.tokens[t.first as usize].sentence == sentence
                })
                .min_by_key(|t| t.first)
            {
                let stance = self.splits[id as usize];
                joined.push((
                    M {
                        tag: Tag::Pred(stance, form),
                        first: h.first,
                        last: h.last,
                    },
                    *t,
                ));
            }
        }
        out.retain(|m| {
            let split = matches!(m.tag, Tag::SplitHead(..) | Tag::SplitTail(_));
            let inside_tail = matches!(m.tag, Tag::Pred(..))
                && joined
                    .iter()
                    .any(|(_, t)| m.first >= t.first && m.last <= t.last);
            !split && !inside_tail
        });
        out.extend(joined.into_iter().map(|(p, _)| p));
    }
}

/// What a sentence's words may hold, before any phrase is found.
#[derive(Debug, Clone, Copy)]
pub(super) struct MayPair {
    /// A predicate and an object that make a signal together.
    pub(super) pair: bool,
    /// A ceasefire or a settlement: what a later "the proposal" may refer to.
    pub(super) proposable: bool,
    /// A proposal's word and a word of accepting, rejecting or setting conditions: an
    /// answer to one.
    pub(super) answer: bool,
    /// A word of an actor.
    pub(super) actor: bool,
}

/// Which gate's filter may hold a normalised word: the bits of the classifier's interleaved
/// `word_filters` (the object, stance, actor, proposal and condition-content gates).
pub(super) const W_OBJECT: u8 = 1;
pub(super) const W_STANCE: u8 = 2;
pub(super) const W_ACTOR: u8 = 4;
pub(super) const W_PROPOSAL: u8 = 8;
pub(super) const W_CONDITION_CONTENT: u8 = 16;
