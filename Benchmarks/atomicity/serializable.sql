-- SERIALIZABLE: read, decide, write; pgbench retries serialization failures (--max-tries).
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT settled, reserved, limit_micros FROM win WHERE key IN ('day', 'month');
UPDATE win SET reserved = reserved + 10 WHERE key IN ('day', 'month');
INSERT INTO ent (cost) VALUES (10);
COMMIT;
