-- ceasefire-watch state, version 1.
-- Times are Unix milliseconds (BIGINT), so the same columns serve SQLite and PostgreSQL.

-- One row per configured feed: what to send on the next conditional GET, and its health.
CREATE TABLE feeds (
    name                 TEXT PRIMARY KEY,
    url                  TEXT NOT NULL,
    etag                 TEXT,
    last_modified        TEXT,
    -- SHA-256 of the last body parsed: an unchanged body is not parsed again.
    body_hash            TEXT,
    last_success_at      BIGINT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    updated_at           BIGINT NOT NULL
);

-- Every item ever seen, by our own key. Its presence is what "seen before" means.
CREATE TABLE items (
    key          TEXT PRIMARY KEY,
    feed         TEXT NOT NULL,
    guid         TEXT,
    link         TEXT,
    title        TEXT NOT NULL,
    published_at BIGINT,
    seen_at      BIGINT NOT NULL
);
CREATE INDEX items_feed ON items (feed, seen_at);

-- One alert per (item, signal). Holds what a message needs, so delivery never re-reads feeds.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    item_key     TEXT NOT NULL REFERENCES items (key),
    signal       TEXT NOT NULL,
    score        REAL NOT NULL,
    rule         TEXT NOT NULL,
    words        TEXT NOT NULL,   -- JSON array of strings
    sentence     TEXT NOT NULL,
    field        TEXT NOT NULL,   -- title | summary
    feed         TEXT NOT NULL,
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL,
    link         TEXT,
    published_at BIGINT,
    created_at   BIGINT NOT NULL,
    UNIQUE (item_key, signal)
);

-- The outbox: one row per (alert, channel, recipient), written in the same transaction as
-- the alert, before anything is sent.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id        INTEGER NOT NULL REFERENCES alerts (id),
    channel         TEXT NOT NULL,   -- email | webhook | log
    target          TEXT NOT NULL,   -- subscriber or webhook name
    address         TEXT NOT NULL,   -- email address or URL, as configured when the alert was made
    idempotency_key TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL,   -- pending | sending | delivered | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
