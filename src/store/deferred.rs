//! Writes the ingest writer holds back until the end of its transaction and then makes in a
//! few statements for the whole group: the rows of new signal items, a story's new members
//! and counts, arrivals, and each feed's validators. Every statement is a round trip to
//! sqlx's connection thread, and these were four of every five of a cold start's statements
//! when made one by one.
//!
//! Held back only what nothing reads before the commit, except the writer itself: whatever is
//! about to read the stories of the store (a cache fill, the release of corroboration holds)
//! or to write a row that refers to an item (an alert) flushes first, so the store and the
//! cache never disagree in a read. An item row is otherwise read only by a later ingest of
//! its feed, which in the same transaction starts a new run of the group, and each run
//! flushes first.

use std::collections::BTreeMap;

use super::sql::{Separated, Sql};
use sqlx::{Any, Transaction};

use super::Result;

type Tx<'a> = Transaction<'a, Any>;

/// SQLite takes at most 32,766 parameters a statement; rows a statement stay well under it.
const ROWS: usize = 500;

/// The held-back writes of one transaction.
#[derive(Debug, Default)]
pub(super) struct Deferred {
    items: Vec<ItemRow>,
    members: Vec<Member>,
    /// By story: what its row gains.
    bumps: BTreeMap<String, Bump>,
    arrivals: Vec<(String, i64, i64)>,
    /// By feed: the last successful fetch recorded.
    feeds: BTreeMap<String, FeedRow>,
}

/// A row of `items` (for an item with a signal).
#[derive(Debug)]
pub(super) struct ItemRow {
    pub key: String,
    pub feed: String,
    pub guid: Option<String>,
    pub link: Option<String>,
    pub title: String,
    pub published_at: Option<i64>,
    pub seen_at: i64,
    pub link_norm: Option<String>,
    pub text_hash: String,
    pub terms: String,
}

/// A row of `story_members`.
#[derive(Debug)]
pub(super) struct Member {
    pub story: String,
    pub item_key: String,
    pub feed: String,
    pub title: String,
    pub terms: String,
    pub similarity: f64,
    pub joined_at: i64,
}

#[derive(Debug, Default)]
struct Bump {
    items: i64,
    sources: i64,
    last_seen_at: i64,
}

#[derive(Debug)]
pub(super) struct FeedRow {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body_hash: Option<String>,
    pub at: i64,
}

impl Deferred {
    /// A new item with a signal.
    pub fn item(&mut self, row: ItemRow) {
        self.items.push(row);
    }

    /// The item joins `story`: one more member, from a new source or not, seen at `at`.
    pub fn join(&mut self, member: Member, new_source: bool) {
        let bump = self.bumps.entry(member.story.clone()).or_default();
        bump.items += 1;
        bump.sources += i64::from(new_source);
        bump.last_seen_at = bump.last_seen_at.max(member.joined_at);
        self.members.push(member);
    }

    /// `items` new items arrived in `feed` at `at`.
    pub fn arrival(&mut self, feed: &str, at: i64, items: i64) {
        self.arrivals.push((feed.to_owned(), at, items));
    }

    /// A successful fetch of `feed`.
    pub fn fetched(&mut self, feed: &str, row: FeedRow) {
        self.feeds.insert(feed.to_owned(), row);
    }

    /// Makes every held-back write, and holds nothing after.
    pub async fn flush(&mut self, tx: &mut Tx<'_>) -> Result<()> {
        let items = std::mem::take(&mut self.items);
        execute_rows(
            tx,
            "INSERT INTO items (key, feed, guid, link, title, published_at, seen_at, link_norm, text_hash, terms)
             SELECT column1, column2, column3, column4, column5, column6, column7, column8, column9, column10 FROM (",
            ") AS v WHERE column1 IS NOT NULL ON CONFLICT (key) DO NOTHING",
            &items,
            10,
            |mut b, r| {
                b.push_bind(r.key.as_str())
                    .push_bind(r.feed.as_str())
                    .push_bind(r.guid.as_deref())
                    .push_bind(r.link.as_deref())
                    .push_bind(r.title.as_str())
                    .push_bind(r.published_at)
                    .push_bind(r.seen_at)
                    .push_bind(r.link_norm.as_deref())
                    .push_bind(r.text_hash.as_str())
                    .push_bind(r.terms.as_str());
            },
        )
        .await?;
        let bumps: Vec<(String, Bump)> = std::mem::take(&mut self.bumps).into_iter().collect();
        execute_rows(
            tx,
            "UPDATE stories SET items = items + v.column2, sources = sources + v.column3,
               last_seen_at = CASE WHEN last_seen_at > v.column4 THEN last_seen_at ELSE v.column4 END FROM (",
            ") AS v WHERE stories.id = v.column1",
            &bumps,
            4,
            |mut b, (story, bump)| {
                b.push_bind(story.as_str())
                    .push_bind(bump.items)
                    .push_bind(bump.sources)
                    .push_bind(bump.last_seen_at);
            },
        )
        .await?;
        let members = std::mem::take(&mut self.members);
        execute_rows(
            tx,
            "INSERT INTO story_members (story_id, item_key, feed, title, terms, similarity, joined_at)
             SELECT column1, column2, column3, column4, column5, column6, column7 FROM (",
            ") AS v WHERE column1 IS NOT NULL ON CONFLICT DO NOTHING",
            &members,
            7,
            |mut b, m| {
                b.push_bind(m.story.as_str())
                    .push_bind(m.item_key.as_str())
                    .push_bind(m.feed.as_str())
                    .push_bind(m.title.as_str())
                    .push_bind(m.terms.as_str())
                    .push_bind(m.similarity)
                    .push_bind(m.joined_at);
            },
        )
        .await?;
        let arrivals = std::mem::take(&mut self.arrivals);
        execute_rows(
            tx,
            "INSERT INTO arrivals (feed, at, items) SELECT column1, column2, column3 FROM (",
            ") AS v WHERE column1 IS NOT NULL",
            &arrivals,
            3,
            |mut b, (feed, at, items)| {
                b.push_bind(feed.as_str()).push_bind(*at).push_bind(*items);
            },
        )
        .await?;
        let feeds: Vec<(String, FeedRow)> = std::mem::take(&mut self.feeds).into_iter().collect();
        execute_rows(
            tx,
            "UPDATE feeds SET etag = v.column2, last_modified = v.column3, body_hash = v.column4,
               last_success_at = v.column5, consecutive_failures = 0, last_error = NULL,
               updated_at = v.column5 FROM (",
            ") AS v WHERE feeds.name = v.column1",
            &feeds,
            5,
            |mut b, (feed, row)| {
                b.push_bind(feed.as_str())
                    .push_bind(row.etag.as_deref())
                    .push_bind(row.last_modified.as_deref())
                    .push_bind(row.body_hash.as_deref())
                    .push_bind(row.at);
            },
        )
        .await
    }
}

/// Runs `head`, `VALUES` of `rows` (`columns` each, written by `bind`), `tail`, a statement
/// per [`ROWS`] rows, padded by [`padded`]: the statement must skip rows whose first column
/// is NULL.
async fn execute_rows<T>(
    tx: &mut Tx<'_>,
    head: &str,
    tail: &str,
    rows: &[T],
    columns: usize,
    bind: impl Fn(Separated<'_>, &T),
) -> Result<()> {
    for chunk in rows.chunks(ROWS) {
        let mut q = Sql::new(tx, head);
        push_padded_values(&mut q, chunk, columns, &bind);
        q.push(tail);
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Pushes `VALUES` of `rows` (`columns` each, written by `bind`), padded by [`padded`] with
/// rows of NULLs, which the statement must skip (or cannot match).
pub(super) fn push_padded_values<T>(
    q: &mut Sql,
    rows: &[T],
    columns: usize,
    bind: impl Fn(Separated<'_>, &T),
) {
    q.push_values(padded(rows), |mut b, row| match row {
        Some(row) => bind(b, row),
        None => {
            for _ in 0..columns {
                b.push("NULL");
            }
        }
    });
}

/// `rows`, then `None`s up to the next power of two (at least 4): a few statement shapes
/// serve every group, each prepared once (a statement prepared anew each time cost more
/// than it saved). A `None` is written as a row of NULLs, which the statements skip.
fn padded<T>(rows: &[T]) -> impl Iterator<Item = Option<&T>> {
    let n = rows.len().next_power_of_two().max(4);
    rows.iter()
        .map(Some)
        .chain(std::iter::repeat_n(None, n - rows.len()))
}

/// `rows` padded as [`padded`] does, with its last row again: for statements where a
/// repeated row changes nothing (an `IN` list, an insert that ignores conflicts).
pub(super) fn padded_with_last<T>(rows: &[T]) -> impl Iterator<Item = &T> {
    let last = rows.last();
    padded(rows).filter_map(move |row| row.or(last))
}
