-- ceasefire-watch state, version 2: stories, statuses, corroboration holds, GUID churn.

-- What identifies an item beyond its key, so a fresh GUID on the same report is not new.
ALTER TABLE items ADD COLUMN link_norm TEXT;
ALTER TABLE items ADD COLUMN text_hash TEXT;
ALTER TABLE items ADD COLUMN terms TEXT;     -- content words (stories::Terms), space-separated
-- The key of the item this one repeats (same link or same text in the same feed), if any.
ALTER TABLE items ADD COLUMN duplicate_of TEXT;
CREATE INDEX items_feed_link ON items (feed, link_norm);
CREATE INDEX items_feed_text ON items (feed, text_hash);

-- One event, reported by one or many feeds. Its first item made the alert.
CREATE TABLE stories (
    id           TEXT PRIMARY KEY,
    signal       TEXT NOT NULL,
    topic        TEXT NOT NULL,   -- russia | us_aid | us_intel
    title        TEXT NOT NULL,
    link         TEXT,
    first_item   TEXT NOT NULL,
    sources      INTEGER NOT NULL, -- distinct feeds
    items        INTEGER NOT NULL,
    started_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX stories_recent ON stories (topic, last_seen_at);

CREATE TABLE story_members (
    story_id   TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    item_key   TEXT NOT NULL,
    feed       TEXT NOT NULL,
    title      TEXT NOT NULL,
    terms      TEXT NOT NULL,   -- content words, space-separated
    similarity REAL NOT NULL,   -- to the closest member when it joined (1 for the first)
    joined_at  BIGINT NOT NULL,
    PRIMARY KEY (story_id, item_key)
);

-- The board: the current status of each topic and the story that set it.
CREATE TABLE statuses (
    topic       TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    story_id    TEXT NOT NULL,
    story_title TEXT NOT NULL,
    set_at      BIGINT NOT NULL
);

-- A story's alert waiting for a route's min_sources.
CREATE TABLE story_holds (
    story_id    TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    alert_id    INTEGER NOT NULL REFERENCES alerts (id),
    channel     TEXT NOT NULL,
    target      TEXT NOT NULL,
    address     TEXT NOT NULL,
    min_sources INTEGER NOT NULL,
    deadline    BIGINT NOT NULL,
    state       TEXT NOT NULL,   -- waiting | unconfirmed (sent after the deadline) | done
    first_key   TEXT,            -- idempotency key of the unconfirmed message, for the follow-up
    PRIMARY KEY (story_id, channel, target)
);
CREATE INDEX story_holds_due ON story_holds (state, deadline);

ALTER TABLE alerts ADD COLUMN story_id TEXT;
ALTER TABLE alerts ADD COLUMN status_topic TEXT;
ALTER TABLE alerts ADD COLUMN status_before TEXT;
ALTER TABLE alerts ADD COLUMN status_after TEXT;

ALTER TABLE deliveries ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN follow_up INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN thread_key TEXT;
