-- ceasefire-watch state, version 4: a compact seen set.
--
-- Every item used to be a full `items` row with four indexes (about 450 bytes on disk per
-- item), though only items with a signal are ever read back in full. Now every item leaves
-- only fingerprints in `seen` (its key, its text, its link, each 16 bytes of SHA-256 scoped
-- to the feed), and `items` keeps full rows for items with a signal.
CREATE TABLE seen (
    fp      BLOB PRIMARY KEY,   -- 16 bytes: the feed's hash (4), then (kind, feed, value)'s (12)
    kind    INTEGER NOT NULL,   -- 0 item key, 1 text hash, 2 normalised link
    seen_at BIGINT NOT NULL
) WITHOUT ROWID;

-- How many new items each feed brought, when: what adaptive polling reads (it used to count
-- item rows). One row per ingest that found new items; housekeeping drops old ones.
CREATE TABLE arrivals (
    feed  TEXT NOT NULL,
    at    BIGINT NOT NULL,
    items INTEGER NOT NULL
);
CREATE INDEX arrivals_feed ON arrivals (feed, at);

INSERT INTO arrivals (feed, at, items)
SELECT feed, seen_at, COUNT(*) FROM items
WHERE duplicate_of IS NULL AND seen_at >= (unixepoch() - 2 * 86400) * 1000
GROUP BY feed, seen_at;

-- The fingerprints of the items already stored are computed by the daemon when it opens the
-- database (SQL has no SHA-256); this row asks for it, and goes when it is done.
CREATE TABLE seen_backfill (pending INTEGER NOT NULL);
INSERT INTO seen_backfill (pending) SELECT 1 WHERE EXISTS (SELECT 1 FROM items);

-- Lookups by text now go to `seen`, and arrivals replace counting a feed's items.
DROP INDEX items_feed_text;
DROP INDEX items_feed;

-- Whether a joining item's feed is a new source of its story: was a scan of the story's
-- members (a big story has thousands).
CREATE INDEX story_members_feed ON story_members (story_id, feed);
