-- ceasefire-watch state, version 3: a row /healthz writes to prove the store is writable.
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL
);
