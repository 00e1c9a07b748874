-- ceasefire-watch state, version 6: an event's object.
-- Which ceasefire or which flow a story is about (domain::ObjectKey, e.g. "ceasefire:720h",
-- "aid:systems"), as the classifier extracted it from its reports; NULL when none named one.
ALTER TABLE stories ADD COLUMN object TEXT;
-- The first feed marked `official` that reported it, and when.
ALTER TABLE stories ADD COLUMN official_feed TEXT;
ALTER TABLE stories ADD COLUMN official_at BIGINT;
