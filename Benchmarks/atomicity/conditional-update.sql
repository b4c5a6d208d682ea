-- A conditional UPDATE … RETURNING on the totals rows, no chain head (it checks each row alone).
BEGIN;
UPDATE win SET reserved = reserved + 10 WHERE key IN ('day', 'month') AND settled + reserved + 10 <= limit_micros RETURNING key;
INSERT INTO ent (cost) VALUES (10);
COMMIT;
