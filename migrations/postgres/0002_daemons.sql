-- ceasefire-watch state on PostgreSQL, version 2: daemons sharing the store.

-- Each running daemon, and when it last said it was alive.
CREATE TABLE daemons (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
-- Which daemon polls which feed, until when. A lease past expires_at is free to take.
CREATE TABLE feed_leases (
    feed        TEXT PRIMARY KEY,
    daemon      TEXT,
    expires_at  BIGINT NOT NULL,
    acquired_at BIGINT NOT NULL DEFAULT 0
);
-- The daemon whose worker claimed a delivery ('sending'): when it dies, the row goes back.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
