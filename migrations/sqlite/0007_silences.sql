-- ceasefire-watch state, version 7: silences.
-- A silence mutes its signals (names joined by commas) for one subscriber or webhook
-- (`subscriber`), or for every one (NULL), from `starts_at` until `ends_at` (ms since the
-- epoch). `silence expire` sets `ends_at` to the moment it was expired; rows are kept as the
-- record of what was muted.
CREATE TABLE silences (
    id          TEXT PRIMARY KEY,
    signals     TEXT NOT NULL,
    subscriber  TEXT,
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    comment     TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX silences_ends ON silences (ends_at);
-- A delivery that came due while a silence matched it: state 'silenced', and which one.
ALTER TABLE deliveries ADD COLUMN silenced_by TEXT;
-- The status page's timeline reads the alerts of the last 30 days.
CREATE INDEX alerts_created ON alerts (created_at);
