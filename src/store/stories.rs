//! Stories, statuses and corroboration holds, inside the ingest transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

use super::deferred::{Deferred, Member};
use super::{Result, Store, StoreError, from_ms, idempotency_key, ms};
use crate::dedupe::placement::{self, Decision, Report};
use crate::dedupe::{StorySettings, Terms, story_id};
use crate::domain::{Channel, Item, ObjectKey, Route, Signal, SignalKind, StatusNote, Topic, time};

type Tx<'a> = Transaction<'a, Any>;

/// What placing one signal of one new item did.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Placement {
    /// It opened a story: one alert, these deliveries now (and maybe holds).
    Opened { story: String, deliveries: usize },
    /// It joined a recent story silently; `deliveries` were released by its new source.
    Joined { story: String, deliveries: usize },
}

/// The words of recent stories' members, kept by the ingest writer between polls, so that
/// placing an item does not read and parse every member of every recent story again (a cold
/// start with a thousand signal items spent most of its time there).
///
/// Never trusted blindly: the first placement of a kind in a transaction reads the recent
/// stories' `items` counts from the store, and an entry is used only while its count is the
/// count the entry was filled at (a member added by anyone else changes it). Within the
/// transaction that list and those counts stay true without reading them again: the writer
/// holds the database's write lock, and every change it makes to a story it makes to the
/// cache too. It clears the whole cache whenever it rolls anything back.
#[derive(Debug, Default)]
pub(super) struct StoryCache {
    stories: HashMap<String, CachedStory>,
    /// For this transaction: by topic, the recent stories read from the store, and the
    /// earliest `last_seen_at` that read asked for.
    recent: HashMap<&'static str, (i64, Vec<String>)>,
}

#[derive(Debug)]
struct CachedStory {
    /// The story's `items` when this was filled or last brought up to date.
    items: i64,
    signal: SignalKind,
    /// Which ceasefire or flow, when a report named it.
    object: Option<ObjectKey>,
    started_at: i64,
    last_seen_at: i64,
    /// The members' distinct words.
    terms: Vec<Terms>,
    /// The feeds of its members: a joining item from another is a new source.
    feeds: HashSet<String>,
    /// Whether it may have corroboration holds to release. Holds are made only when a story
    /// opens, so a story without any then never has one.
    holds: bool,
    /// Whether an official source has reported it.
    official: bool,
}

impl StoryCache {
    pub(super) fn clear(&mut self) {
        self.stories.clear();
        self.recent.clear();
    }

    /// The end of a transaction: what it learned is kept if it was committed. The lists of
    /// recent stories are read again in the next (another writer may add stories between).
    pub(super) fn end_transaction(&mut self, committed: bool) {
        if committed {
            self.recent.clear();
        } else {
            self.clear();
        }
    }

    /// Records that `story` now has `items` items, the newest with `terms` from `feed`, seen
    /// at `at`; forgets it if the cache did not know it at `items - 1` (it will be read again
    /// when next needed).
    fn joined(&mut self, story: &str, items: i64, terms: &Terms, feed: &str, at: i64) {
        match self.stories.get_mut(story) {
            Some(c) if c.items + 1 == items => {
                c.items = items;
                c.last_seen_at = c.last_seen_at.max(at);
                if !c.terms.contains(terms) {
                    c.terms.push(terms.clone());
                }
                if !c.feeds.contains(feed) {
                    c.feeds.insert(feed.to_owned());
                }
            }
            Some(_) => {
                self.stories.remove(story);
            }
            None => {}
        }
    }

    fn opened(&mut self, story: &str, opened: Opened<'_>, holds: bool, at: i64) {
        let Opened {
            signal,
            object,
            terms,
            feed,
            official,
        } = opened;
        self.stories.insert(
            story.to_owned(),
            CachedStory {
                items: 1,
                signal,
                object: object.cloned(),
                started_at: at,
                last_seen_at: at,
                terms: vec![terms.clone()],
                feeds: HashSet::from([feed.to_owned()]),
                holds,
                official,
            },
        );
    }

    /// Whether this transaction's list of recent stories for `by` covers `since` and every
    /// story on it is cached.
    fn knows_recent(&self, by: &str, since: i64) -> bool {
        self.recent.get(by).is_some_and(|(read_since, ids)| {
            *read_since <= since && ids.iter().all(|id| self.stories.contains_key(id))
        })
    }
}

/// A story just opened, for the cache.
struct Opened<'a> {
    signal: SignalKind,
    object: Option<&'a ObjectKey>,
    terms: &'a Terms,
    feed: &'a str,
    official: bool,
}

/// Puts one signal of a new item into a story, as [`placement::decide`] says: joins a recent
/// one of its topic (silently, or releasing holds its new source satisfies), or opens one
/// (with its alert, its status effect and its deliveries or holds).
///
/// One function because the decision and its writes must happen in one order inside
/// the caller's transaction; the decision itself is `placement::decide`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn place(
    tx: &mut Tx<'_>,
    cache: &mut StoryCache,
    deferred: &mut Deferred,
    item: &Item,
    signal: &Signal,
    terms: &Terms,
    routes: &[Route],
    settings: &StorySettings,
    now: DateTime<Utc>,
) -> Result<Placement> {
    let since = join_since(now, settings);
    let by = recent_key(signal.kind);
    if !cache.knows_recent(by, since) {
        read_recent(tx, cache, deferred, [(by, since)]).await?;
    }
    let at = ms(now);
    let object = signal.evidence.object.as_deref().and_then(ObjectKey::parse);
    let decision = {
        let events: Vec<placement::Event<'_>> = cache.recent[by]
            .1
            .iter()
            .filter_map(|id| Some((id, cache.stories.get(id)?)))
            .map(|(id, c)| placement::Event {
                id,
                signal: c.signal,
                object: c.object.as_ref(),
                started_at: c.started_at,
                last_seen_at: c.last_seen_at,
                terms: &c.terms,
            })
            .collect();
        let report = Report {
            signal: signal.kind,
            object: object.as_ref(),
            terms,
            at,
        };
        placement::decide(report, &events, &settings.policy())
    };
    let official = settings.official.contains(&item.feed);
    if let Decision::Join {
        event: story,
        similarity,
        refined,
    } = decision
    {
        // What the report adds to the event besides a member: a facet of its object, its
        // first official source. Rare, so written at once.
        let first_official = official && !cache.stories[&story].official;
        if refined.is_some() || first_official {
            sqlx::query(
                "UPDATE stories SET object = COALESCE($1, object),
                   official_feed = COALESCE(official_feed, $2), official_at = COALESCE(official_at, $3)
                 WHERE id = $4",
            )
            .bind(refined.as_ref().map(ToString::to_string))
            .bind(first_official.then_some(item.feed.as_str()))
            .bind(first_official.then_some(at))
            .bind(&story)
            .execute(&mut **tx)
            .await?;
            if let Some(c) = cache.stories.get_mut(&story) {
                c.official |= first_official;
                if let Some(refined) = refined {
                    c.object = Some(refined);
                }
            }
        }
        let c = &cache.stories[&story];
        let new_source = !c.feeds.contains(item.feed.as_str());
        let member = member(&story, item, terms, similarity, at);
        let (deliveries, items) = if new_source && c.holds {
            // Holds are released by the store's count of sources: it must be up to date.
            deferred.flush(tx).await?;
            join_now(tx, member, now).await?
        } else {
            let items = c.items + 1;
            deferred.join(member, new_source);
            (0, items)
        };
        cache.joined(&story, items, terms, item.feed.as_str(), at);
        return Ok(Placement::Joined { story, deliveries });
    }
    // The alert refers to the item's row.
    deferred.flush(tx).await?;
    let (placed, holds) = open(
        tx,
        item,
        signal,
        object.as_ref(),
        terms,
        routes,
        settings,
        now,
    )
    .await?;
    if let Placement::Opened { story, .. } = &placed {
        let opened = Opened {
            signal: signal.kind,
            object: object.as_ref(),
            terms,
            feed: item.feed.as_str(),
            official,
        };
        cache.opened(story, opened, holds, at);
        if let Some((_, ids)) = cache.recent.get_mut(by) {
            ids.push(story.clone());
        }
    }
    Ok(placed)
}

/// The list of recent stories a signal of `kind` is placed among: its topic's (a later story
/// of another signal of the topic may have changed the status an earlier one set).
pub(super) fn recent_key(kind: SignalKind) -> &'static str {
    kind.topic().as_str()
}

/// Reads into the cache the lists of recent stories `wanted` (by [`recent_key`], the earliest
/// `last_seen_at` wanted) that this transaction has not read yet, in one statement: counts,
/// and the members of those stories the cache does not know at their count.
///
/// The ingest reads every list its fresh signal items may need before it holds anything
/// back; otherwise the held-back writes are flushed first, as the store is read.
pub(super) async fn read_recent(
    tx: &mut Tx<'_>,
    cache: &mut StoryCache,
    deferred: &mut Deferred,
    wanted: impl IntoIterator<Item = (&'static str, i64)>,
) -> Result<()> {
    let mut lists: HashMap<&'static str, i64> = HashMap::new();
    for (by, since) in wanted {
        let s = lists.entry(by).or_insert(since);
        *s = (*s).min(since);
    }
    lists.retain(|by, since| !cache.knows_recent(by, *since));
    let Some(&since) = lists.values().min() else {
        return Ok(());
    };
    deferred.flush(tx).await?;
    let keys: Vec<&'static str> = lists.keys().copied().collect();
    let mut q = super::sql::Sql::new(
        tx,
        "SELECT id, items, last_seen_at, topic, signal, object, started_at, official_feed FROM stories WHERE topic IN (",
    );
    let mut list = q.separated(", ");
    for by in super::deferred::padded_with_last(&keys) {
        list.push_bind(*by);
    }
    q.push(") AND last_seen_at >= ").push_bind(since);
    type RecentRow = (
        String,
        i64,
        i64,
        String,
        String,
        Option<String>,
        i64,
        Option<String>,
    );
    let recent: Vec<RecentRow> = q.build_query_as().fetch_all(&mut **tx).await?;
    for (story, items, last_seen_at, _, signal, object, started_at, official) in &recent {
        if let Some(c) = cache.stories.get_mut(story).filter(|c| c.items == *items) {
            c.last_seen_at = *last_seen_at;
            c.object = object.as_deref().and_then(ObjectKey::parse);
            c.official = official.is_some();
            continue;
        }
        let signal: SignalKind = signal.parse().map_err(|message| StoreError::Corrupt {
            table: "stories",
            message,
        })?;
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT DISTINCT terms, feed FROM story_members WHERE story_id = $1")
                .bind(story)
                .fetch_all(&mut **tx)
                .await?;
        let holds: i64 = sqlx::query_scalar(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM story_holds WHERE story_id = $1 AND state IN ('waiting', 'unconfirmed')) THEN 1 ELSE 0 END",
        )
        .bind(story)
        .fetch_one(&mut **tx)
        .await?;
        let holds = holds != 0;
        // Alike words are stored alike, so distinct strings are distinct terms.
        let distinct: std::collections::BTreeSet<&str> =
            stored.iter().map(|(t, _)| t.as_str()).collect();
        let terms = distinct.into_iter().map(Terms::from_stored).collect();
        cache.stories.insert(
            story.clone(),
            CachedStory {
                items: *items,
                signal,
                object: object.as_deref().and_then(ObjectKey::parse),
                started_at: *started_at,
                last_seen_at: *last_seen_at,
                terms,
                feeds: stored.into_iter().map(|(_, f)| f).collect(),
                holds,
                official: official.is_some(),
            },
        );
    }
    for (by, since) in lists {
        let ids = recent
            .iter()
            .filter(|r| r.3 == by && r.2 >= since)
            .map(|r| r.0.clone())
            .collect();
        cache.recent.insert(by, (since, ids));
    }
    Ok(())
}

/// Adds a member from a new source to a story that may have holds, at once: the deliveries
/// that source released, and the story's items.
async fn join_now(tx: &mut Tx<'_>, m: Member, now: DateTime<Utc>) -> Result<(usize, i64)> {
    insert_member(tx, &m).await?;
    let (sources, items): (i64, i64) = sqlx::query_as(
        "UPDATE stories SET items = items + 1, sources = sources + 1,
           last_seen_at = CASE WHEN last_seen_at > $2 THEN last_seen_at ELSE $2 END
         WHERE id = $1 RETURNING sources, items",
    )
    .bind(&m.story)
    .bind(m.joined_at)
    .fetch_one(&mut **tx)
    .await?;
    let released = release_corroborated(tx, &m.story, sources, now).await?;
    Ok((released, items))
}

async fn insert_member(tx: &mut Tx<'_>, m: &Member) -> Result<()> {
    sqlx::query(
        "INSERT INTO story_members (story_id, item_key, feed, title, terms, similarity, joined_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(&m.story)
    .bind(&m.item_key)
    .bind(&m.feed)
    .bind(&m.title)
    .bind(&m.terms)
    .bind(m.similarity)
    .bind(m.joined_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn member(story: &str, item: &Item, terms: &Terms, similarity: f32, at: i64) -> Member {
    Member {
        story: story.to_owned(),
        item_key: item.key.as_str().to_owned(),
        feed: item.feed.as_str().to_owned(),
        title: item.title.clone(),
        terms: terms.to_stored(),
        similarity: f64::from(similarity),
        joined_at: at,
    }
}

/// The earliest `last_seen_at` of a story that a signal seen at `now` may join.
pub(super) fn join_since(now: DateTime<Utc>, settings: &StorySettings) -> i64 {
    settings.policy().since(ms(now))
}

/// Whether an item published at `published` and first seen at `now` is too old to alert
/// (recorded, never placed in a story).
pub(super) fn is_stale(
    published: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    settings: &StorySettings,
) -> bool {
    published.is_some_and(|p| p < time::earlier(now, settings.max_item_age))
}

/// A column holding one of our names (a channel, a signal), parsed.
fn parsed<T: std::str::FromStr<Err = String>>(
    row: &sqlx::any::AnyRow,
    column: &str,
    table: &'static str,
) -> Result<T> {
    row.try_get::<String, _>(column)?
        .parse()
        .map_err(|message| StoreError::Corrupt { table, message })
}

#[allow(clippy::too_many_arguments)]
async fn open(
    tx: &mut Tx<'_>,
    item: &Item,
    signal: &Signal,
    object: Option<&ObjectKey>,
    terms: &Terms,
    routes: &[Route],
    settings: &StorySettings,
    now: DateTime<Utc>,
) -> Result<(Placement, bool)> {
    let id = story_id(&item.key, signal.kind);
    let topic = signal.kind.topic();
    let official = settings.official.contains(&item.feed);
    sqlx::query(
        "INSERT INTO stories (id, signal, topic, title, link, first_item, sources, items, started_at, last_seen_at,
                              object, official_feed, official_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, 1, $7, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(signal.kind.as_str())
    .bind(topic.as_str())
    .bind(&item.title)
    .bind(item.link.as_deref())
    .bind(item.key.as_str())
    .bind(ms(now))
    .bind(object.map(ToString::to_string))
    .bind(official.then_some(item.feed.as_str()))
    .bind(official.then_some(ms(now)))
    .execute(&mut **tx)
    .await?;
    insert_member(tx, &member(&id, item, terms, 1.0, ms(now))).await?;
    let status = set_status(tx, topic, signal.kind, &id, &item.title, item, now).await?;
    let alert_id =
        super::insert_alert_row(tx, item, signal, Some(&id), status.as_ref(), now).await?;
    let changed = status.as_ref().is_some_and(StatusNote::changed);
    let mut deliveries = 0;
    // Whether the story has corroboration holds.
    let mut holds = false;
    for route in routes.iter().filter(|r| r.wants(signal, changed)) {
        if !route.holds() {
            let key = idempotency_key(&item.key, signal.kind, route.channel, &route.target);
            deliveries += insert_delivery(
                tx,
                NewDelivery {
                    alert_id,
                    channel: route.channel,
                    target: &route.target,
                    address: &route.address,
                    key: &key,
                    kind: DeliveryKind::Alert,
                    thread: None,
                },
                now,
            )
            .await?;
        } else {
            holds = true;
            let deadline = time::later(now, settings.max_wait);
            sqlx::query(
                "INSERT INTO story_holds (story_id, alert_id, channel, target, address, min_sources, deadline, state)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting') ON CONFLICT DO NOTHING",
            )
            .bind(&id)
            .bind(alert_id)
            .bind(route.channel.as_str())
            .bind(&route.target)
            .bind(&route.address)
            .bind(i64::from(route.min_sources))
            .bind(ms(deadline))
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok((
        Placement::Opened {
            story: id,
            deliveries,
        },
        holds,
    ))
}

/// Moves the topic's status to what this story says, unless a later story already set it.
/// Returns the effect (`None` when the story is older than the current status).
async fn set_status(
    tx: &mut Tx<'_>,
    topic: Topic,
    kind: SignalKind,
    story: &str,
    title: &str,
    item: &Item,
    now: DateTime<Utc>,
) -> Result<Option<StatusNote>> {
    let at = item.published.map_or(now, |p| p.min(now));
    let current = sqlx::query("SELECT value, set_at FROM statuses WHERE topic = $1")
        .bind(topic.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    let before = match &current {
        Some(r) => {
            if from_ms(r.try_get("set_at")?) > at {
                return Ok(None);
            }
            r.try_get::<String, _>("value")?
        }
        None => "unknown".to_owned(),
    };
    sqlx::query(
        "INSERT INTO statuses (topic, value, story_id, story_title, set_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (topic) DO UPDATE SET value = excluded.value, story_id = excluded.story_id,
           story_title = excluded.story_title, set_at = excluded.set_at",
    )
    .bind(topic.as_str())
    .bind(kind.status())
    .bind(story)
    .bind(title)
    .bind(ms(at))
    .execute(&mut **tx)
    .await?;
    Ok(Some(StatusNote {
        topic,
        before,
        after: kind.status().to_owned(),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeliveryKind {
    Alert,
    Unconfirmed,
    FollowUp,
}

/// One outbox row to make.
pub(super) struct NewDelivery<'a> {
    pub alert_id: i64,
    pub channel: Channel,
    pub target: &'a str,
    pub address: &'a str,
    pub key: &'a str,
    pub kind: DeliveryKind,
    /// For a follow-up: the key of the message it answers.
    pub thread: Option<&'a str>,
}

pub(super) async fn insert_delivery(
    tx: &mut Tx<'_>,
    d: NewDelivery<'_>,
    now: DateTime<Utc>,
) -> Result<usize> {
    let NewDelivery {
        alert_id,
        channel,
        target,
        address,
        key,
        kind,
        thread,
    } = d;
    Ok(sqlx::query(
        "INSERT INTO deliveries (alert_id, channel, target, address, idempotency_key, state,
                                 next_attempt_at, created_at, updated_at, unconfirmed, follow_up, thread_key)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6, $6, $7, $8, $9)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(alert_id)
    .bind(channel.as_str())
    .bind(target)
    .bind(address)
    .bind(key)
    .bind(ms(now))
    .bind(i64::from(kind == DeliveryKind::Unconfirmed))
    .bind(i64::from(kind == DeliveryKind::FollowUp))
    .bind(thread)
    .execute(&mut **tx)
    .await?
    .rows_affected() as usize)
}

fn follow_up_key(story: &str, channel: &str, target: &str) -> String {
    let mut h = Sha256::new();
    for part in [story, "confirmed", channel, target] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

/// A story reached `sources` feeds: holds waiting for that many are sent now; routes that got
/// it unconfirmed get a follow-up in the same thread.
async fn release_corroborated(
    tx: &mut Tx<'_>,
    story: &str,
    sources: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    let holds = sqlx::query(
        "SELECT h.alert_id, h.channel, h.target, h.address, h.state, h.first_key, a.item_key, a.signal
         FROM story_holds h JOIN alerts a ON a.id = h.alert_id
         WHERE h.story_id = $1 AND h.min_sources <= $2 AND h.state IN ('waiting', 'unconfirmed')",
    )
    .bind(story)
    .bind(sources)
    .fetch_all(&mut **tx)
    .await?;
    let mut n = 0;
    for h in holds {
        let channel: Channel = parsed(&h, "channel", "story_holds")?;
        let target: String = h.try_get("target")?;
        let address: String = h.try_get("address")?;
        let alert_id: i64 = h.try_get("alert_id")?;
        let state: String = h.try_get("state")?;
        let first: Option<String> = h.try_get("first_key")?;
        let (key, kind) = if state == "waiting" {
            let item = crate::domain::ItemKey::from_stored(h.try_get("item_key")?);
            let signal: SignalKind = parsed(&h, "signal", "alerts")?;
            (
                idempotency_key(&item, signal, channel, &target),
                DeliveryKind::Alert,
            )
        } else {
            (
                follow_up_key(story, channel.as_str(), &target),
                DeliveryKind::FollowUp,
            )
        };
        n += insert_delivery(
            tx,
            NewDelivery {
                alert_id,
                channel,
                target: &target,
                address: &address,
                key: &key,
                kind,
                thread: first.as_deref().filter(|_| kind == DeliveryKind::FollowUp),
            },
            now,
        )
        .await?;
        sqlx::query(
            "UPDATE story_holds SET state = 'done' WHERE story_id = $1 AND channel = $2 AND target = $3",
        )
        .bind(story)
        .bind(channel.as_str())
        .bind(&target)
        .execute(&mut **tx)
        .await?;
    }
    Ok(n)
}

/// What housekeeping did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Housekeeping {
    /// Held alerts sent unconfirmed because `stories.max_wait` passed.
    pub unconfirmed: usize,
    /// Stories forgotten after `stories.keep`.
    pub forgotten: u64,
}

impl Store {
    /// Sends held alerts whose wait is over, marked unconfirmed, forgets stories not
    /// reported for `keep` (the stories behind current statuses stay) and arrivals older
    /// than two days.
    pub async fn housekeeping(
        &self,
        settings: &StorySettings,
        now: DateTime<Utc>,
    ) -> Result<Housekeeping> {
        let mut tx = self.write_tx().await?;
        let due = sqlx::query(
            "SELECT h.story_id, h.alert_id, h.channel, h.target, h.address, a.item_key, a.signal
             FROM story_holds h JOIN alerts a ON a.id = h.alert_id
             WHERE h.state = 'waiting' AND h.deadline <= $1",
        )
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        let mut report = Housekeeping::default();
        for h in due {
            let story: String = h.try_get("story_id")?;
            let channel: Channel = parsed(&h, "channel", "story_holds")?;
            let target: String = h.try_get("target")?;
            let address: String = h.try_get("address")?;
            let signal: SignalKind = parsed(&h, "signal", "alerts")?;
            let item = crate::domain::ItemKey::from_stored(h.try_get("item_key")?);
            let key = idempotency_key(&item, signal, channel, &target);
            report.unconfirmed += insert_delivery(
                &mut tx,
                NewDelivery {
                    alert_id: h.try_get("alert_id")?,
                    channel,
                    target: &target,
                    address: &address,
                    key: &key,
                    kind: DeliveryKind::Unconfirmed,
                    thread: None,
                },
                now,
            )
            .await?;
            sqlx::query(
                "UPDATE story_holds SET state = 'unconfirmed', first_key = $4
                 WHERE story_id = $1 AND channel = $2 AND target = $3",
            )
            .bind(&story)
            .bind(channel.as_str())
            .bind(&target)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        }
        let before = time::earlier(now, settings.keep);
        report.forgotten = sqlx::query(
            "DELETE FROM stories WHERE last_seen_at < $1 AND id NOT IN (SELECT story_id FROM statuses)",
        )
        .bind(ms(before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Adaptive polling reads a day of arrivals; two are kept.
        sqlx::query("DELETE FROM arrivals WHERE at < $1")
            .bind(ms(now - chrono::Duration::days(2)))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::JoinBy;
    use crate::domain::AlertOn;
    use crate::domain::FeedName;
    use crate::store::tests::{ingest, item, signal};
    use crate::store::{FeedUpdate, IngestReport};

    #[tokio::test]
    async fn a_story_joins_only_within_its_window_and_is_forgotten_after_keep() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            let settings = StorySettings::default();
            let t0 = Utc::now() - chrono::Duration::days(60);
            let text = "Peskov rejects Riyadh 30-day energy truce";
            assert_eq!(report(&store, "a", "1", text, t0).await.alerts, 1);
            // Another feed a day later: the same story, now with two sources.
            let r = report(&store, "b", "2", text, t0 + chrono::Duration::days(1)).await;
            assert_eq!((r.alerts, r.joined), (0, 1));
            let board = store.statuses().await.unwrap();
            assert_eq!(board[0].story.as_ref().unwrap().sources, 2);
            // The same text again on feed b is a repeat, not news.
            let r = report(&store, "b", "2b", text, t0 + chrono::Duration::days(1)).await;
            assert_eq!((r.new_items, r.repeats), (0, 1));
            // Past the window (48 h after it was last reported): a new story.
            let r = report(&store, "c", "3", text, t0 + chrono::Duration::days(4)).await;
            assert_eq!((r.alerts, r.joined), (1, 0));
            // 30 days later the first story is forgotten; the one behind the status stays.
            let done = store
                .housekeeping(&settings, t0 + chrono::Duration::days(33))
                .await
                .unwrap();
            assert_eq!(done.forgotten, 1);
            let board = store.statuses().await.unwrap();
            assert_eq!(board[0].value, "rejects");
            assert_eq!(board[0].story.as_ref().unwrap().sources, 1);
        }
    }

    /// One signal item of `feed` at `at`, recorded through `store` (a handle with its own
    /// writer).
    async fn report(
        store: &Store,
        feed: &str,
        guid: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> crate::store::IngestReport {
        let feed = FeedName::parse(feed).unwrap();
        let items = vec![(
            item(&feed, guid, text),
            vec![signal(SignalKind::RussiaRejects)],
        )];
        let settings = StorySettings::default();
        ingest(
            store,
            &feed,
            &FeedUpdate::default(),
            &items,
            &[],
            &settings,
            at,
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_held_alert_is_released_by_a_second_source_whichever_writer_records_it() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let first = fx.open().await;
            let second = fx.open().await;
            let routes = [Route {
                channel: Channel::Webhook,
                target: "ops".into(),
                address: "http://127.0.0.1:9/hook".into(),
                signals: [SignalKind::RussiaRejects].into(),
                min_score: 0.0,
                alert_on: AlertOn::Story,
                min_sources: 2,
            }];
            let settings = StorySettings::default();
            let (routes, settings) = (&routes, &settings);
            let text = "Peskov rejects Riyadh 30-day energy truce";
            let record = |store: &Store, feed: &str, guid: &str| {
                let feed = FeedName::parse(feed).unwrap();
                // Each report in its own words (the same words again would be a repeat).
                let items = vec![(
                    item(&feed, guid, &format!("{text} ({feed} {guid})")),
                    vec![signal(SignalKind::RussiaRejects)],
                )];
                let store = store.clone();
                async move {
                    ingest(
                        &store,
                        &feed,
                        &FeedUpdate::default(),
                        &items,
                        routes,
                        settings,
                        Utc::now(),
                    )
                    .await
                    .unwrap()
                }
            };
            // The first writer opens the story and holds its alert for a second source.
            let opened = record(&first, "a", "1").await;
            assert_eq!((opened.alerts, opened.deliveries), (1, 0));
            // A second report from the same feed is no new source: still held.
            let same = record(&first, "a", "2").await;
            assert_eq!((same.joined, same.deliveries), (1, 0));
            // Another feed, through the other writer (which has never seen the story): released.
            let other = record(&second, "b", "3").await;
            assert_eq!((other.joined, other.deliveries), (1, 1));
            // And through the first writer, whose cache is now behind: nothing twice.
            let third = record(&first, "c", "4").await;
            assert_eq!((third.joined, third.deliveries), (1, 0));
        }
    }

    #[tokio::test]
    async fn the_writers_story_cache_never_hides_members_added_by_another_writer() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let first = fx.open().await;
            let second = fx.open().await;
            // The first writer opens the story (and caches its one member)...
            let opened = report(
                &first,
                "a",
                "1",
                "Peskov rejects Riyadh energy truce",
                Utc::now(),
            )
            .await;
            assert_eq!(opened.alerts, 1);
            // ...the second adds a longer report of it...
            let longer =
                "Peskov rejects Riyadh energy truce; Lavrov calls Geneva drone talks premature";
            assert_eq!(
                report(&second, "b", "2", longer, Utc::now()).await.joined,
                1
            );
            // ...and a report like only that longer member still joins through the first
            // writer: its cache is behind the store, so it reads the story again.
            let like_second = "Lavrov calls Geneva drone talks premature, rejects plan";
            let r = report(&first, "c", "3", like_second, Utc::now()).await;
            assert_eq!((r.alerts, r.joined), (0, 1));
            let board = first.statuses().await.unwrap();
            assert_eq!(board[0].story.as_ref().unwrap().sources, 3);
        }
    }

    #[tokio::test]
    async fn feeds_recorded_at_the_same_time_share_commits_and_each_gets_its_own_report() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            let texts = [
                "Peskov rejects Riyadh energy truce",
                "Kremlin turns down Riyadh energy truce, Peskov says",
                "Zakharova dismisses Vatican Easter ceasefire offer",
            ];
            let reports = futures_util::future::join_all((0..30).map(|i| {
                let store = store.clone();
                async move {
                    let feed = format!("f{i}");
                    report(&store, &feed, "x", texts[i % texts.len()], Utc::now()).await
                }
            }))
            .await;
            assert!(reports.iter().all(|r| r.new_items == 1));
            // Two events, each alerted once however the ingests were grouped.
            assert_eq!(reports.iter().map(|r| r.alerts).sum::<usize>(), 2);
            assert_eq!(reports.iter().map(|r| r.joined).sum::<usize>(), 28);
            assert_eq!(store.item_count().await.unwrap(), 30);
        }
    }

    #[tokio::test]
    async fn an_edited_report_is_a_repeat_even_when_both_versions_share_a_commit() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            let settings = StorySettings::default();
            // Twenty feeds, each sending a report and its edit (a fresh GUID at the same link)
            // at once, so that both are likely recorded in one transaction.
            let texts = [
                "Kremlin rejects truce brokered by Oman after Muscat meeting with envoys",
                "Kremlin rejects truce brokered by Oman after Muscat meeting with envoys, ministry says",
            ];
            let sends: Vec<(FeedName, usize)> = (0..20)
                .flat_map(|i| {
                    (0..2).map(move |edit| (FeedName::parse(&format!("f{i}")).unwrap(), edit))
                })
                .collect();
            let results = futures_util::future::join_all(sends.iter().map(|(feed, edit)| {
                let (store, settings) = (store.clone(), &settings);
                async move {
                    let mut it = item(feed, &format!("g{edit}"), texts[*edit]);
                    it.link = Some(format!("https://example.org/{feed}"));
                    let items = vec![(it, vec![signal(SignalKind::RussiaRejects)])];
                    let update = FeedUpdate::default();
                    ingest(&store, feed, &update, &items, &[], settings, Utc::now()).await
                }
            }))
            .await;
            let reports: Vec<IngestReport> = results.into_iter().map(Result::unwrap).collect();
            assert_eq!(reports.iter().map(|r| r.new_items).sum::<usize>(), 20);
            assert_eq!(reports.iter().map(|r| r.repeats).sum::<usize>(), 20);
            // Full rows for the reports, none for their edits.
            let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items")
                .fetch_one(&store.pool)
                .await
                .unwrap();
            assert_eq!(rows, 20);
        }
    }

    #[tokio::test]
    async fn a_report_at_a_known_link_repeats_only_its_own_feeds_when_feeds_share_a_commit() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            let settings = StorySettings::default();
            let link = "https://example.org/oman-truce";
            let send = |feed: FeedName, guid: &'static str, text: &'static str| {
                let (store, settings) = (store.clone(), &settings);
                async move {
                    let mut it = item(&feed, guid, text);
                    it.link = Some(link.to_owned());
                    let items = vec![(it, vec![signal(SignalKind::RussiaRejects)])];
                    let update = FeedUpdate::default();
                    ingest(&store, &feed, &update, &items, &[], settings, Utc::now())
                        .await
                        .unwrap()
                }
            };
            let first = "Kremlin rejects truce brokered by Oman after Muscat meeting with envoys";
            let edit = "Kremlin rejects truce brokered by Oman after Muscat meeting with envoys, ministry says";
            let f = |name: &str| FeedName::parse(name).unwrap();
            let r = send(f("a"), "g0", first).await;
            assert_eq!((r.new_items, r.alerts), (1, 1));
            // Then, at once (so that they share transactions), the edit from `a` under a fresh
            // GUID, and the same words at the same link from twelve other feeds.
            let mut reports = futures_util::future::join_all(
                (0..12)
                    .map(|i| send(f(&format!("b{i}")), "g1", edit))
                    .chain(std::iter::once(send(f("a"), "g1", edit))),
            )
            .await;
            // `a` has reported it before; the other feeds have not, and corroborate it.
            let a = reports.pop().unwrap();
            assert_eq!((a.new_items, a.repeats), (0, 1));
            for r in &reports {
                assert_eq!((r.new_items, r.repeats, r.joined), (1, 0, 1));
            }
            let board = store.statuses().await.unwrap();
            assert_eq!(board[0].story.as_ref().unwrap().sources, 13);
        }
    }

    #[tokio::test]
    async fn signals_join_their_own_stories_or_their_topics_when_recorded_in_one_commit() {
        let text = "Kremlin answers the Oman truce plan brokered in Muscat";
        for (join, alerts) in [(JoinBy::Signal, 2), (JoinBy::Topic, 1)] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).await.unwrap();
            let settings = StorySettings {
                join,
                ..StorySettings::default()
            };
            // The same words from twenty feeds, half read as a rejection and half as a
            // conditional acceptance (both of Russia's stance): two alone, then eighteen at
            // once, whose transactions read both kinds of stories together.
            let send = |i: usize| {
                let (store, settings) = (store.clone(), &settings);
                async move {
                    let feed = FeedName::parse(&format!("f{i}")).unwrap();
                    let kind = [SignalKind::RussiaRejects, SignalKind::RussiaConditional][i % 2];
                    let items = vec![(item(&feed, "x", text), vec![signal(kind)])];
                    let update = FeedUpdate::default();
                    ingest(&store, &feed, &update, &items, &[], settings, Utc::now())
                        .await
                        .unwrap()
                }
            };
            let mut reports = vec![send(0).await, send(1).await];
            reports.extend(futures_util::future::join_all((2..20).map(send)).await);
            let opened: usize = reports.iter().map(|r| r.alerts).sum();
            let joined: usize = reports.iter().map(|r| r.joined).sum();
            assert_eq!((opened, joined), (alerts, 20 - alerts), "{join:?}");
            let since = Utc::now() - chrono::Duration::hours(1);
            let mut items: Vec<u32> = store
                .recent_stories(since)
                .await
                .unwrap()
                .iter()
                .map(|s| s.items)
                .collect();
            items.sort();
            let expected = if alerts == 2 { vec![10, 10] } else { vec![20] };
            assert_eq!(items, expected, "{join:?}");
        }
    }

    #[tokio::test]
    async fn a_feed_whose_ingest_fails_fails_alone_and_the_others_of_its_group_commit() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            // Two ways to fail: a row written at once (an item), and one held back to the end
            // of the transaction (an arrival).
            let triggers: &[&str] = match fx {
                crate::store::testing::Fixture::Sqlite(_) => &[
                    "CREATE TRIGGER refuse_items BEFORE INSERT ON items WHEN NEW.feed = 'f5'
                     BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                    "CREATE TRIGGER refuse_arrivals BEFORE INSERT ON arrivals WHEN NEW.feed = 'f8'
                     BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                ],
                crate::store::testing::Fixture::Postgres(_) => &[
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
                     $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
                    "CREATE TRIGGER refuse_items BEFORE INSERT ON items FOR EACH ROW
                     WHEN (NEW.feed = 'f5') EXECUTE FUNCTION refuse()",
                    "CREATE TRIGGER refuse_arrivals BEFORE INSERT ON arrivals FOR EACH ROW
                     WHEN (NEW.feed = 'f8') EXECUTE FUNCTION refuse()",
                ],
            };
            for sql in triggers {
                sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
                    .execute(&store.pool)
                    .await
                    .unwrap();
            }
            let texts = [
                "Peskov rejects Riyadh energy truce",
                "Zakharova dismisses Vatican Easter ceasefire offer",
            ];
            let settings = StorySettings::default();
            let results = futures_util::future::join_all((0..30).map(|i| {
                let (store, settings) = (store.clone(), &settings);
                async move {
                    let feed = FeedName::parse(&format!("f{i}")).unwrap();
                    let text = texts[i % texts.len()];
                    let items = vec![(
                        item(&feed, "x", text),
                        vec![signal(SignalKind::RussiaRejects)],
                    )];
                    let update = FeedUpdate::default();
                    let r = ingest(&store, &feed, &update, &items, &[], settings, Utc::now()).await;
                    (i, r)
                }
            }))
            .await;
            for (i, r) in &results {
                match i {
                    5 | 8 => assert!(
                        r.as_ref()
                            .is_err_and(|e| e.to_string().contains("refused by the test")),
                        "f{i}: {r:?}"
                    ),
                    _ => assert_eq!(r.as_ref().unwrap().new_items, 1, "f{i}"),
                }
            }
            let ok: Vec<&IngestReport> = results
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok())
                .collect();
            assert_eq!(ok.iter().map(|r| r.alerts).sum::<usize>(), 2);
            assert_eq!(ok.iter().map(|r| r.joined).sum::<usize>(), 26);
            // Nothing of the failed feeds stayed: the stories count 14 members each.
            assert_eq!(store.item_count().await.unwrap(), 28);
            let stories = store
                .recent_stories(Utc::now() - chrono::Duration::hours(1))
                .await
                .unwrap();
            let mut counts: Vec<(u32, u32)> =
                stories.iter().map(|s| (s.items, s.sources)).collect();
            counts.sort();
            assert_eq!(counts, [(14, 14), (14, 14)]);
            // And a failed feed recorded again, once it can be, is new and joins its story.
            let drop = match fx {
                crate::store::testing::Fixture::Sqlite(_) => "DROP TRIGGER refuse_items",
                crate::store::testing::Fixture::Postgres(_) => "DROP TRIGGER refuse_items ON items",
            };
            sqlx::query(drop).execute(&store.pool).await.unwrap();
            let r = report(&store, "f5", "x", texts[1], Utc::now()).await;
            assert_eq!((r.new_items, r.joined), (1, 1));
        }
    }
}
