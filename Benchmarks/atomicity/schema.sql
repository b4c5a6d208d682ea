-- The shape of a reservation's hot rows: the state row (chain head), today's and this month's totals, and the entries.
DROP TABLE IF EXISTS st, win, ent;
CREATE TABLE st (id int PRIMARY KEY, head bigint NOT NULL);
CREATE TABLE win (key text PRIMARY KEY, limit_micros bigint NOT NULL, settled bigint NOT NULL, reserved bigint NOT NULL);
CREATE TABLE ent (id bigserial PRIMARY KEY, cost bigint NOT NULL);
INSERT INTO st VALUES (1, 0);
INSERT INTO win VALUES ('day', 9000000000000000, 0, 0), ('month', 9000000000000000, 0, 0);
