-- The ledger's choice: the state row's lock serializes writers; then read, decide, write, advance the head.
BEGIN;
SELECT head FROM st WHERE id = 1 FOR UPDATE;
SELECT settled, reserved, limit_micros FROM win WHERE key IN ('day', 'month');
UPDATE win SET reserved = reserved + 10 WHERE key IN ('day', 'month');
UPDATE st SET head = head + 1 WHERE id = 1;
INSERT INTO ent (cost) VALUES (10);
COMMIT;
