-- ceasefire-watch state, version 5: retention.
-- Pruning deletes an alert only when no delivery refers to it; this finds those rows without
-- a scan of the outbox.
CREATE INDEX deliveries_alert ON deliveries (alert_id);
