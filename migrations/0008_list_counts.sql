-- The hosted-PBX history (company.api, missed.api) and the paged lists (recordList, callHistory, operatorHistory) find a deep
-- page without stepping over the rows before it: the tables below count the rows of each list per hour and per
-- day of their start (call_counts) or per 1024 ids (id_pages), kept exact by the triggers of this migration, so
-- an offset is turned into a start time or an id bound in a few look-ups (src/db/seek.ts).
--
-- calls.called_back: a later call with the same number had a conversation (missed.api's "called back"). The
-- number is compared as a key: leading '+' dropped, and an 11-digit number starting with 7 or 8 taken as 7...
-- Kept by triggers when a call starts talking, changes number or is deleted.
ALTER TABLE `calls` ADD `called_back` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `calls_phone_key` ON `calls` ((CASE WHEN length(ltrim(phone, '+')) = 11 AND substr(ltrim(phone, '+'), 1, 1) IN ('7', '8') AND ltrim(phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(phone, '+'), 2) ELSE ltrim(phone, '+') END), `id`);--> statement-breakpoint
UPDATE calls SET called_back = 1 WHERE EXISTS (SELECT 1 FROM calls l WHERE (CASE WHEN length(ltrim(l.phone, '+')) = 11 AND substr(ltrim(l.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(l.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(l.phone, '+'), 2) ELSE ltrim(l.phone, '+') END) = (CASE WHEN length(ltrim(calls.phone, '+')) = 11 AND substr(ltrim(calls.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(calls.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(calls.phone, '+'), 2) ELSE ltrim(calls.phone, '+') END) AND l.id > calls.id AND (l.answered_at IS NOT NULL OR l.client_answer_at IS NOT NULL OR l.status = 'FINISH'));--> statement-breakpoint
DROP INDEX `calls_missed`;--> statement-breakpoint
-- the columns of its condition are in the index too, so a skipped row is read from the index alone
CREATE INDEX `calls_missed` ON `calls` (`created_at`,`id`,`direction`,`final`,`answered_at`,`client_answer_at`,`status`,`called_back`,`phone`) WHERE "calls"."direction" = 'incoming' AND "calls"."final" = 1 AND "calls"."answered_at" IS NULL AND "calls"."client_answer_at" IS NULL AND "calls"."status" <> 'FINISH' AND "calls"."called_back" = 0 AND "calls"."phone" GLOB '*[0-9]*';--> statement-breakpoint
-- level 0: buckets of an hour (created_at / 3600000), level 1: of a day (created_at / 86400000), UTC.
-- c_*: final calls by direction; k_*: final children of group calls by direction; missed: missed.api's calls;
-- u_*: final calls with an operator that are no group call, by direction (users.api); p_*: pause and unpause rows
-- of operator_history (users.api), by their time.
CREATE TABLE `call_counts` (
	`level` integer NOT NULL,
	`bucket` integer NOT NULL,
	`c_in` integer DEFAULT 0 NOT NULL,
	`c_out` integer DEFAULT 0 NOT NULL,
	`c_int` integer DEFAULT 0 NOT NULL,
	`c_other` integer DEFAULT 0 NOT NULL,
	`k_in` integer DEFAULT 0 NOT NULL,
	`k_out` integer DEFAULT 0 NOT NULL,
	`k_int` integer DEFAULT 0 NOT NULL,
	`k_other` integer DEFAULT 0 NOT NULL,
	`missed` integer DEFAULT 0 NOT NULL,
	`u_in` integer DEFAULT 0 NOT NULL,
	`u_out` integer DEFAULT 0 NOT NULL,
	`u_int` integer DEFAULT 0 NOT NULL,
	`u_other` integer DEFAULT 0 NOT NULL,
	`p_pause` integer DEFAULT 0 NOT NULL,
	`p_unpause` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`level`, `bucket`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
  SELECT 0, c.created_at / 3600000, sum((CASE WHEN c.final = 1 AND c.direction = 'incoming' THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction = 'outgoing' THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction = 'internal' THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END)), sum((CASE WHEN c.direction = 'incoming' AND c.final = 1 AND c.answered_at IS NULL AND c.client_answer_at IS NULL AND c.status <> 'FINISH' AND c.called_back = 0 AND c.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END)),
    sum((CASE WHEN c.final = 1 AND c.direction = 'incoming' AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]')) THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction = 'outgoing' AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]')) THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction = 'internal' AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]')) THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction NOT IN ('incoming', 'outgoing', 'internal') AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]')) THEN 1 ELSE 0 END))
  FROM calls c WHERE c.final = 1 GROUP BY 2;--> statement-breakpoint
INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
  SELECT 0, k.created_at / 3600000, sum((CASE WHEN k.final = 1 AND k.direction = 'incoming' THEN 1 ELSE 0 END)), sum((CASE WHEN k.final = 1 AND k.direction = 'outgoing' THEN 1 ELSE 0 END)), sum((CASE WHEN k.final = 1 AND k.direction = 'internal' THEN 1 ELSE 0 END)), sum((CASE WHEN k.final = 1 AND k.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
  FROM call_children k WHERE k.final = 1 GROUP BY 2
  ON CONFLICT (level, bucket) DO UPDATE SET k_in = excluded.k_in, k_out = excluded.k_out, k_int = excluded.k_int, k_other = excluded.k_other;--> statement-breakpoint
INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
  SELECT 1, c.created_at / 86400000, sum((CASE WHEN c.final = 1 AND c.direction = 'incoming' THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction = 'outgoing' THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction = 'internal' THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END)), sum((CASE WHEN c.direction = 'incoming' AND c.final = 1 AND c.answered_at IS NULL AND c.client_answer_at IS NULL AND c.status <> 'FINISH' AND c.called_back = 0 AND c.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END)),
    sum((CASE WHEN c.final = 1 AND c.direction = 'incoming' AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]')) THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction = 'outgoing' AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]')) THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction = 'internal' AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]')) THEN 1 ELSE 0 END)), sum((CASE WHEN c.final = 1 AND c.direction NOT IN ('incoming', 'outgoing', 'internal') AND c.group_kind IS NULL AND (c.sip IS NOT NULL OR (c.operators IS NOT NULL AND c.operators <> '[]')) THEN 1 ELSE 0 END))
  FROM calls c WHERE c.final = 1 GROUP BY 2;--> statement-breakpoint
INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
  SELECT 1, k.created_at / 86400000, sum((CASE WHEN k.final = 1 AND k.direction = 'incoming' THEN 1 ELSE 0 END)), sum((CASE WHEN k.final = 1 AND k.direction = 'outgoing' THEN 1 ELSE 0 END)), sum((CASE WHEN k.final = 1 AND k.direction = 'internal' THEN 1 ELSE 0 END)), sum((CASE WHEN k.final = 1 AND k.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
  FROM call_children k WHERE k.final = 1 GROUP BY 2
  ON CONFLICT (level, bucket) DO UPDATE SET k_in = excluded.k_in, k_out = excluded.k_out, k_int = excluded.k_int, k_other = excluded.k_other;--> statement-breakpoint
-- page: id / 1024; page -1 holds the total (recordings and operator_history). tbl: the table, or
-- 'operator_history/<sip>' for one operator's rows
CREATE TABLE `id_pages` (
	`tbl` text NOT NULL,
	`page` integer NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`tbl`, `page`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO id_pages (tbl, page, n) SELECT 'recordings', id / 1024, count(*) FROM recordings GROUP BY 2;--> statement-breakpoint
INSERT INTO id_pages (tbl, page, n) SELECT 'recordings', -1, count(*) FROM recordings;--> statement-breakpoint
INSERT INTO id_pages (tbl, page, n) SELECT 'call_statuses', id / 1024, count(*) FROM call_statuses GROUP BY 2;--> statement-breakpoint
INSERT INTO id_pages (tbl, page, n) SELECT 'operator_history', id / 1024, count(*) FROM operator_history GROUP BY 2;--> statement-breakpoint
INSERT INTO id_pages (tbl, page, n) SELECT 'operator_history', -1, count(*) FROM operator_history;--> statement-breakpoint
INSERT INTO id_pages (tbl, page, n) SELECT 'operator_history/' || sip, id / 1024, count(*) FROM operator_history GROUP BY 1, 2;--> statement-breakpoint
INSERT INTO id_pages (tbl, page, n) SELECT 'operator_history/' || sip, -1, count(*) FROM operator_history GROUP BY 1;--> statement-breakpoint
CREATE TRIGGER `recordings_pages_insert` AFTER INSERT ON `recordings` BEGIN
  INSERT INTO id_pages (tbl, page, n) VALUES ('recordings', new.id / 1024, 1), ('recordings', -1, 1) ON CONFLICT (tbl, page) DO UPDATE SET n = n + excluded.n;
END;--> statement-breakpoint
CREATE TRIGGER `recordings_pages_delete` AFTER DELETE ON `recordings` BEGIN
  INSERT INTO id_pages (tbl, page, n) VALUES ('recordings', old.id / 1024, -1), ('recordings', -1, -1) ON CONFLICT (tbl, page) DO UPDATE SET n = n + excluded.n;
END;--> statement-breakpoint
CREATE TRIGGER `call_statuses_pages_insert` AFTER INSERT ON `call_statuses` BEGIN
  INSERT INTO id_pages (tbl, page, n) VALUES ('call_statuses', new.id / 1024, 1) ON CONFLICT (tbl, page) DO UPDATE SET n = n + excluded.n;
END;--> statement-breakpoint
CREATE TRIGGER `call_statuses_pages_delete` AFTER DELETE ON `call_statuses` BEGIN
  INSERT INTO id_pages (tbl, page, n) VALUES ('call_statuses', old.id / 1024, -1) ON CONFLICT (tbl, page) DO UPDATE SET n = n + excluded.n;
END;--> statement-breakpoint
CREATE TRIGGER `operator_history_pages_insert` AFTER INSERT ON `operator_history` BEGIN
  INSERT INTO id_pages (tbl, page, n) VALUES ('operator_history', new.id / 1024, 1), ('operator_history', -1, 1),
    ('operator_history/' || new.sip, new.id / 1024, 1), ('operator_history/' || new.sip, -1, 1)
    ON CONFLICT (tbl, page) DO UPDATE SET n = n + excluded.n;
END;--> statement-breakpoint
CREATE TRIGGER `operator_history_pages_update` AFTER UPDATE OF `sip` ON `operator_history` WHEN old.sip IS NOT new.sip BEGIN
  INSERT INTO id_pages (tbl, page, n) VALUES ('operator_history', old.id / 1024, -1), ('operator_history', -1, -1),
    ('operator_history/' || old.sip, old.id / 1024, -1), ('operator_history/' || old.sip, -1, -1)
    ON CONFLICT (tbl, page) DO UPDATE SET n = n + excluded.n;
  INSERT INTO id_pages (tbl, page, n) VALUES ('operator_history', new.id / 1024, 1), ('operator_history', -1, 1),
    ('operator_history/' || new.sip, new.id / 1024, 1), ('operator_history/' || new.sip, -1, 1)
    ON CONFLICT (tbl, page) DO UPDATE SET n = n + excluded.n;
END;--> statement-breakpoint
CREATE TRIGGER `operator_history_pages_delete` AFTER DELETE ON `operator_history` BEGIN
  INSERT INTO id_pages (tbl, page, n) VALUES ('operator_history', old.id / 1024, -1), ('operator_history', -1, -1),
    ('operator_history/' || old.sip, old.id / 1024, -1), ('operator_history/' || old.sip, -1, -1)
    ON CONFLICT (tbl, page) DO UPDATE SET n = n + excluded.n;
END;--> statement-breakpoint
CREATE TRIGGER `calls_counts_insert` AFTER INSERT ON `calls` WHEN new.final = 1 BEGIN
  INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
    VALUES (0, new.created_at / 3600000, (CASE WHEN new.final = 1 AND new.direction = 'incoming' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END), (CASE WHEN new.direction = 'incoming' AND new.final = 1 AND new.answered_at IS NULL AND new.client_answer_at IS NULL AND new.status <> 'FINISH' AND new.called_back = 0 AND new.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END),
      (CASE WHEN new.final = 1 AND new.direction = 'incoming' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET c_in = c_in + excluded.c_in, c_out = c_out + excluded.c_out, c_int = c_int + excluded.c_int,
      c_other = c_other + excluded.c_other, missed = missed + excluded.missed,
      u_in = u_in + excluded.u_in, u_out = u_out + excluded.u_out, u_int = u_int + excluded.u_int, u_other = u_other + excluded.u_other;
  INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
    VALUES (1, new.created_at / 86400000, (CASE WHEN new.final = 1 AND new.direction = 'incoming' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END), (CASE WHEN new.direction = 'incoming' AND new.final = 1 AND new.answered_at IS NULL AND new.client_answer_at IS NULL AND new.status <> 'FINISH' AND new.called_back = 0 AND new.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END),
      (CASE WHEN new.final = 1 AND new.direction = 'incoming' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET c_in = c_in + excluded.c_in, c_out = c_out + excluded.c_out, c_int = c_int + excluded.c_int,
      c_other = c_other + excluded.c_other, missed = missed + excluded.missed,
      u_in = u_in + excluded.u_in, u_out = u_out + excluded.u_out, u_int = u_int + excluded.u_int, u_other = u_other + excluded.u_other;
END;--> statement-breakpoint
CREATE TRIGGER `calls_counts_update` AFTER UPDATE OF `final`, `direction`, `created_at`, `called_back`, `answered_at`, `client_answer_at`, `status`, `phone`, `group_kind`, `sip`, `operators` ON `calls`
WHEN (old.final = 1 OR new.final = 1) AND (old.final IS NOT new.final OR old.direction IS NOT new.direction OR old.created_at IS NOT new.created_at OR (CASE WHEN old.direction = 'incoming' AND old.final = 1 AND old.answered_at IS NULL AND old.client_answer_at IS NULL AND old.status <> 'FINISH' AND old.called_back = 0 AND old.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END) IS NOT (CASE WHEN new.direction = 'incoming' AND new.final = 1 AND new.answered_at IS NULL AND new.client_answer_at IS NULL AND new.status <> 'FINISH' AND new.called_back = 0 AND new.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END) OR (CASE WHEN old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END) IS NOT (CASE WHEN new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END)) BEGIN
  INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
    VALUES (0, old.created_at / 3600000, -(CASE WHEN old.final = 1 AND old.direction = 'incoming' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END), -(CASE WHEN old.direction = 'incoming' AND old.final = 1 AND old.answered_at IS NULL AND old.client_answer_at IS NULL AND old.status <> 'FINISH' AND old.called_back = 0 AND old.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END),
      -(CASE WHEN old.final = 1 AND old.direction = 'incoming' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET c_in = c_in + excluded.c_in, c_out = c_out + excluded.c_out, c_int = c_int + excluded.c_int,
      c_other = c_other + excluded.c_other, missed = missed + excluded.missed,
      u_in = u_in + excluded.u_in, u_out = u_out + excluded.u_out, u_int = u_int + excluded.u_int, u_other = u_other + excluded.u_other;
  INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
    VALUES (1, old.created_at / 86400000, -(CASE WHEN old.final = 1 AND old.direction = 'incoming' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END), -(CASE WHEN old.direction = 'incoming' AND old.final = 1 AND old.answered_at IS NULL AND old.client_answer_at IS NULL AND old.status <> 'FINISH' AND old.called_back = 0 AND old.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END),
      -(CASE WHEN old.final = 1 AND old.direction = 'incoming' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET c_in = c_in + excluded.c_in, c_out = c_out + excluded.c_out, c_int = c_int + excluded.c_int,
      c_other = c_other + excluded.c_other, missed = missed + excluded.missed,
      u_in = u_in + excluded.u_in, u_out = u_out + excluded.u_out, u_int = u_int + excluded.u_int, u_other = u_other + excluded.u_other;
  INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
    VALUES (0, new.created_at / 3600000, (CASE WHEN new.final = 1 AND new.direction = 'incoming' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END), (CASE WHEN new.direction = 'incoming' AND new.final = 1 AND new.answered_at IS NULL AND new.client_answer_at IS NULL AND new.status <> 'FINISH' AND new.called_back = 0 AND new.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END),
      (CASE WHEN new.final = 1 AND new.direction = 'incoming' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET c_in = c_in + excluded.c_in, c_out = c_out + excluded.c_out, c_int = c_int + excluded.c_int,
      c_other = c_other + excluded.c_other, missed = missed + excluded.missed,
      u_in = u_in + excluded.u_in, u_out = u_out + excluded.u_out, u_int = u_int + excluded.u_int, u_other = u_other + excluded.u_other;
  INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
    VALUES (1, new.created_at / 86400000, (CASE WHEN new.final = 1 AND new.direction = 'incoming' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END), (CASE WHEN new.direction = 'incoming' AND new.final = 1 AND new.answered_at IS NULL AND new.client_answer_at IS NULL AND new.status <> 'FINISH' AND new.called_back = 0 AND new.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END),
      (CASE WHEN new.final = 1 AND new.direction = 'incoming' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') AND new.group_kind IS NULL AND (new.sip IS NOT NULL OR (new.operators IS NOT NULL AND new.operators <> '[]')) THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET c_in = c_in + excluded.c_in, c_out = c_out + excluded.c_out, c_int = c_int + excluded.c_int,
      c_other = c_other + excluded.c_other, missed = missed + excluded.missed,
      u_in = u_in + excluded.u_in, u_out = u_out + excluded.u_out, u_int = u_int + excluded.u_int, u_other = u_other + excluded.u_other;
END;--> statement-breakpoint
CREATE TRIGGER `calls_counts_delete` AFTER DELETE ON `calls` WHEN old.final = 1 BEGIN
  INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
    VALUES (0, old.created_at / 3600000, -(CASE WHEN old.final = 1 AND old.direction = 'incoming' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END), -(CASE WHEN old.direction = 'incoming' AND old.final = 1 AND old.answered_at IS NULL AND old.client_answer_at IS NULL AND old.status <> 'FINISH' AND old.called_back = 0 AND old.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END),
      -(CASE WHEN old.final = 1 AND old.direction = 'incoming' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET c_in = c_in + excluded.c_in, c_out = c_out + excluded.c_out, c_int = c_int + excluded.c_int,
      c_other = c_other + excluded.c_other, missed = missed + excluded.missed,
      u_in = u_in + excluded.u_in, u_out = u_out + excluded.u_out, u_int = u_int + excluded.u_int, u_other = u_other + excluded.u_other;
  INSERT INTO call_counts (level, bucket, c_in, c_out, c_int, c_other, missed, u_in, u_out, u_int, u_other)
    VALUES (1, old.created_at / 86400000, -(CASE WHEN old.final = 1 AND old.direction = 'incoming' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END), -(CASE WHEN old.direction = 'incoming' AND old.final = 1 AND old.answered_at IS NULL AND old.client_answer_at IS NULL AND old.status <> 'FINISH' AND old.called_back = 0 AND old.phone GLOB '*[0-9]*' THEN 1 ELSE 0 END),
      -(CASE WHEN old.final = 1 AND old.direction = 'incoming' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') AND old.group_kind IS NULL AND (old.sip IS NOT NULL OR (old.operators IS NOT NULL AND old.operators <> '[]')) THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET c_in = c_in + excluded.c_in, c_out = c_out + excluded.c_out, c_int = c_int + excluded.c_int,
      c_other = c_other + excluded.c_other, missed = missed + excluded.missed,
      u_in = u_in + excluded.u_in, u_out = u_out + excluded.u_out, u_int = u_int + excluded.u_int, u_other = u_other + excluded.u_other;
END;--> statement-breakpoint
-- A call that starts talking: the earlier calls of its number were called back (those before the number's
-- previous conversation already are, so only the calls since then are visited).
CREATE TRIGGER `calls_called_back_insert` AFTER INSERT ON `calls` WHEN (new.answered_at IS NOT NULL OR new.client_answer_at IS NOT NULL OR new.status = 'FINISH') BEGIN
  UPDATE calls SET called_back = 1 WHERE (CASE WHEN length(ltrim(phone, '+')) = 11 AND substr(ltrim(phone, '+'), 1, 1) IN ('7', '8') AND ltrim(phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(phone, '+'), 2) ELSE ltrim(phone, '+') END) = (CASE WHEN length(ltrim(new.phone, '+')) = 11 AND substr(ltrim(new.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(new.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(new.phone, '+'), 2) ELSE ltrim(new.phone, '+') END) AND id < new.id AND id >= coalesce((SELECT p.id FROM calls p WHERE (CASE WHEN length(ltrim(p.phone, '+')) = 11 AND substr(ltrim(p.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(p.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(p.phone, '+'), 2) ELSE ltrim(p.phone, '+') END) = (CASE WHEN length(ltrim(new.phone, '+')) = 11 AND substr(ltrim(new.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(new.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(new.phone, '+'), 2) ELSE ltrim(new.phone, '+') END) AND p.id < new.id AND (p.answered_at IS NOT NULL OR p.client_answer_at IS NOT NULL OR p.status = 'FINISH') ORDER BY p.id DESC LIMIT 1), 0) AND called_back = 0;
END;--> statement-breakpoint
-- A call that starts talking or changes number: its own flag for its new number, the earlier calls of its new
-- number called back, and those of its old number looked at again.
CREATE TRIGGER `calls_called_back_update` AFTER UPDATE OF `phone`, `answered_at`, `client_answer_at`, `status` ON `calls`
WHEN (old.answered_at IS NOT NULL OR old.client_answer_at IS NOT NULL OR old.status = 'FINISH') IS NOT (new.answered_at IS NOT NULL OR new.client_answer_at IS NOT NULL OR new.status = 'FINISH') OR (old.phone IS NOT new.phone AND (CASE WHEN length(ltrim(old.phone, '+')) = 11 AND substr(ltrim(old.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(old.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(old.phone, '+'), 2) ELSE ltrim(old.phone, '+') END) IS NOT (CASE WHEN length(ltrim(new.phone, '+')) = 11 AND substr(ltrim(new.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(new.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(new.phone, '+'), 2) ELSE ltrim(new.phone, '+') END)) BEGIN
  UPDATE calls SET called_back = EXISTS (SELECT 1 FROM calls l WHERE (CASE WHEN length(ltrim(l.phone, '+')) = 11 AND substr(ltrim(l.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(l.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(l.phone, '+'), 2) ELSE ltrim(l.phone, '+') END) = (CASE WHEN length(ltrim(calls.phone, '+')) = 11 AND substr(ltrim(calls.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(calls.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(calls.phone, '+'), 2) ELSE ltrim(calls.phone, '+') END) AND l.id > calls.id AND (l.answered_at IS NOT NULL OR l.client_answer_at IS NOT NULL OR l.status = 'FINISH')) WHERE id = new.id AND (old.phone IS NOT new.phone AND (CASE WHEN length(ltrim(old.phone, '+')) = 11 AND substr(ltrim(old.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(old.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(old.phone, '+'), 2) ELSE ltrim(old.phone, '+') END) IS NOT (CASE WHEN length(ltrim(new.phone, '+')) = 11 AND substr(ltrim(new.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(new.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(new.phone, '+'), 2) ELSE ltrim(new.phone, '+') END));
  UPDATE calls SET called_back = 1 WHERE (new.answered_at IS NOT NULL OR new.client_answer_at IS NOT NULL OR new.status = 'FINISH') AND (CASE WHEN length(ltrim(phone, '+')) = 11 AND substr(ltrim(phone, '+'), 1, 1) IN ('7', '8') AND ltrim(phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(phone, '+'), 2) ELSE ltrim(phone, '+') END) = (CASE WHEN length(ltrim(new.phone, '+')) = 11 AND substr(ltrim(new.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(new.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(new.phone, '+'), 2) ELSE ltrim(new.phone, '+') END) AND id < new.id AND id >= coalesce((SELECT p.id FROM calls p WHERE (CASE WHEN length(ltrim(p.phone, '+')) = 11 AND substr(ltrim(p.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(p.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(p.phone, '+'), 2) ELSE ltrim(p.phone, '+') END) = (CASE WHEN length(ltrim(new.phone, '+')) = 11 AND substr(ltrim(new.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(new.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(new.phone, '+'), 2) ELSE ltrim(new.phone, '+') END) AND p.id < new.id AND (p.answered_at IS NOT NULL OR p.client_answer_at IS NOT NULL OR p.status = 'FINISH') ORDER BY p.id DESC LIMIT 1), 0) AND called_back = 0;
  UPDATE calls SET called_back = EXISTS (SELECT 1 FROM calls l WHERE (CASE WHEN length(ltrim(l.phone, '+')) = 11 AND substr(ltrim(l.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(l.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(l.phone, '+'), 2) ELSE ltrim(l.phone, '+') END) = (CASE WHEN length(ltrim(calls.phone, '+')) = 11 AND substr(ltrim(calls.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(calls.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(calls.phone, '+'), 2) ELSE ltrim(calls.phone, '+') END) AND l.id > calls.id AND (l.answered_at IS NOT NULL OR l.client_answer_at IS NOT NULL OR l.status = 'FINISH')) WHERE (old.answered_at IS NOT NULL OR old.client_answer_at IS NOT NULL OR old.status = 'FINISH') AND (CASE WHEN length(ltrim(phone, '+')) = 11 AND substr(ltrim(phone, '+'), 1, 1) IN ('7', '8') AND ltrim(phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(phone, '+'), 2) ELSE ltrim(phone, '+') END) = (CASE WHEN length(ltrim(old.phone, '+')) = 11 AND substr(ltrim(old.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(old.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(old.phone, '+'), 2) ELSE ltrim(old.phone, '+') END) AND id < old.id AND id >= coalesce((SELECT p.id FROM calls p WHERE (CASE WHEN length(ltrim(p.phone, '+')) = 11 AND substr(ltrim(p.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(p.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(p.phone, '+'), 2) ELSE ltrim(p.phone, '+') END) = (CASE WHEN length(ltrim(old.phone, '+')) = 11 AND substr(ltrim(old.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(old.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(old.phone, '+'), 2) ELSE ltrim(old.phone, '+') END) AND p.id < old.id AND (p.answered_at IS NOT NULL OR p.client_answer_at IS NOT NULL OR p.status = 'FINISH') ORDER BY p.id DESC LIMIT 1), 0) AND called_back = 1;
END;--> statement-breakpoint
CREATE TRIGGER `calls_called_back_delete` AFTER DELETE ON `calls` WHEN (old.answered_at IS NOT NULL OR old.client_answer_at IS NOT NULL OR old.status = 'FINISH') BEGIN
  UPDATE calls SET called_back = EXISTS (SELECT 1 FROM calls l WHERE (CASE WHEN length(ltrim(l.phone, '+')) = 11 AND substr(ltrim(l.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(l.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(l.phone, '+'), 2) ELSE ltrim(l.phone, '+') END) = (CASE WHEN length(ltrim(calls.phone, '+')) = 11 AND substr(ltrim(calls.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(calls.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(calls.phone, '+'), 2) ELSE ltrim(calls.phone, '+') END) AND l.id > calls.id AND (l.answered_at IS NOT NULL OR l.client_answer_at IS NOT NULL OR l.status = 'FINISH')) WHERE (CASE WHEN length(ltrim(phone, '+')) = 11 AND substr(ltrim(phone, '+'), 1, 1) IN ('7', '8') AND ltrim(phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(phone, '+'), 2) ELSE ltrim(phone, '+') END) = (CASE WHEN length(ltrim(old.phone, '+')) = 11 AND substr(ltrim(old.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(old.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(old.phone, '+'), 2) ELSE ltrim(old.phone, '+') END) AND id < old.id AND id >= coalesce((SELECT p.id FROM calls p WHERE (CASE WHEN length(ltrim(p.phone, '+')) = 11 AND substr(ltrim(p.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(p.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(p.phone, '+'), 2) ELSE ltrim(p.phone, '+') END) = (CASE WHEN length(ltrim(old.phone, '+')) = 11 AND substr(ltrim(old.phone, '+'), 1, 1) IN ('7', '8') AND ltrim(old.phone, '+') NOT GLOB '*[^0-9]*' THEN '7' || substr(ltrim(old.phone, '+'), 2) ELSE ltrim(old.phone, '+') END) AND p.id < old.id AND (p.answered_at IS NOT NULL OR p.client_answer_at IS NOT NULL OR p.status = 'FINISH') ORDER BY p.id DESC LIMIT 1), 0) AND called_back = 1;
END;--> statement-breakpoint
CREATE TRIGGER `call_children_counts_insert` AFTER INSERT ON `call_children` WHEN new.final = 1 BEGIN
  INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
    VALUES (0, new.created_at / 3600000, (CASE WHEN new.final = 1 AND new.direction = 'incoming' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET k_in = k_in + excluded.k_in, k_out = k_out + excluded.k_out, k_int = k_int + excluded.k_int,
      k_other = k_other + excluded.k_other;
  INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
    VALUES (1, new.created_at / 86400000, (CASE WHEN new.final = 1 AND new.direction = 'incoming' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET k_in = k_in + excluded.k_in, k_out = k_out + excluded.k_out, k_int = k_int + excluded.k_int,
      k_other = k_other + excluded.k_other;
END;--> statement-breakpoint
CREATE TRIGGER `call_children_counts_update` AFTER UPDATE OF `final`, `direction`, `created_at` ON `call_children`
WHEN (old.final = 1 OR new.final = 1) AND (old.final IS NOT new.final OR old.direction IS NOT new.direction OR old.created_at IS NOT new.created_at) BEGIN
  INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
    VALUES (0, old.created_at / 3600000, -(CASE WHEN old.final = 1 AND old.direction = 'incoming' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET k_in = k_in + excluded.k_in, k_out = k_out + excluded.k_out, k_int = k_int + excluded.k_int,
      k_other = k_other + excluded.k_other;
  INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
    VALUES (1, old.created_at / 86400000, -(CASE WHEN old.final = 1 AND old.direction = 'incoming' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET k_in = k_in + excluded.k_in, k_out = k_out + excluded.k_out, k_int = k_int + excluded.k_int,
      k_other = k_other + excluded.k_other;
  INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
    VALUES (0, new.created_at / 3600000, (CASE WHEN new.final = 1 AND new.direction = 'incoming' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET k_in = k_in + excluded.k_in, k_out = k_out + excluded.k_out, k_int = k_int + excluded.k_int,
      k_other = k_other + excluded.k_other;
  INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
    VALUES (1, new.created_at / 86400000, (CASE WHEN new.final = 1 AND new.direction = 'incoming' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'outgoing' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction = 'internal' THEN 1 ELSE 0 END), (CASE WHEN new.final = 1 AND new.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET k_in = k_in + excluded.k_in, k_out = k_out + excluded.k_out, k_int = k_int + excluded.k_int,
      k_other = k_other + excluded.k_other;
END;--> statement-breakpoint
CREATE TRIGGER `call_children_counts_delete` AFTER DELETE ON `call_children` WHEN old.final = 1 BEGIN
  INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
    VALUES (0, old.created_at / 3600000, -(CASE WHEN old.final = 1 AND old.direction = 'incoming' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET k_in = k_in + excluded.k_in, k_out = k_out + excluded.k_out, k_int = k_int + excluded.k_int,
      k_other = k_other + excluded.k_other;
  INSERT INTO call_counts (level, bucket, k_in, k_out, k_int, k_other)
    VALUES (1, old.created_at / 86400000, -(CASE WHEN old.final = 1 AND old.direction = 'incoming' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'outgoing' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction = 'internal' THEN 1 ELSE 0 END), -(CASE WHEN old.final = 1 AND old.direction NOT IN ('incoming', 'outgoing', 'internal') THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET k_in = k_in + excluded.k_in, k_out = k_out + excluded.k_out, k_int = k_int + excluded.k_int,
      k_other = k_other + excluded.k_other;
END;--> statement-breakpoint
-- operator_history.pause: 32 when the row is an operator's queue pause, 64 an unpause (users.api), else NULL. An
-- away that only follows a call begun while paused is no new pause, and an online after such a call is the unpause.
-- Decided when the row is written (it depends on the operator's row before), so users.api reads the few pause rows
-- from a partial index instead of testing every presence change of the window.
ALTER TABLE `operator_history` ADD `pause` integer;--> statement-breakpoint
UPDATE operator_history AS h SET pause = CASE WHEN (h.status = 'away' AND (h.previous_status IS NULL OR h.previous_status <> 'inuse' OR NOT coalesce((SELECT p.previous_status FROM operator_history p WHERE p.sip = h.sip AND p.id < h.id ORDER BY p.id DESC LIMIT 1) = 'away', 0))) THEN 32 WHEN (h.status = 'online' AND (h.previous_status = 'away' OR (h.previous_status = 'inuse' AND coalesce((SELECT p.previous_status FROM operator_history p WHERE p.sip = h.sip AND p.id < h.id ORDER BY p.id DESC LIMIT 1) = 'away', 0)))) THEN 64 END WHERE h.status IN ('away', 'online');--> statement-breakpoint
CREATE INDEX `operator_history_pauses` ON `operator_history` (`time`,`id`,`pause`) WHERE "operator_history"."pause" IS NOT NULL;--> statement-breakpoint
INSERT INTO call_counts (level, bucket, p_pause, p_unpause)
  SELECT 0, h.time / 3600000, sum(CASE WHEN h.pause = 32 THEN 1 ELSE 0 END), sum(CASE WHEN h.pause = 64 THEN 1 ELSE 0 END)
  FROM operator_history h WHERE h.pause IS NOT NULL GROUP BY 2
  ON CONFLICT (level, bucket) DO UPDATE SET p_pause = excluded.p_pause, p_unpause = excluded.p_unpause;--> statement-breakpoint
INSERT INTO call_counts (level, bucket, p_pause, p_unpause)
  SELECT 1, h.time / 86400000, sum(CASE WHEN h.pause = 32 THEN 1 ELSE 0 END), sum(CASE WHEN h.pause = 64 THEN 1 ELSE 0 END)
  FROM operator_history h WHERE h.pause IS NOT NULL GROUP BY 2
  ON CONFLICT (level, bucket) DO UPDATE SET p_pause = excluded.p_pause, p_unpause = excluded.p_unpause;--> statement-breakpoint
CREATE TRIGGER `operator_history_pause_counts_update` AFTER UPDATE OF `pause`, `time` ON `operator_history`
WHEN (old.pause IS NOT NULL OR new.pause IS NOT NULL) AND (old.pause IS NOT new.pause OR old.time IS NOT new.time) BEGIN
  INSERT INTO call_counts (level, bucket, p_pause, p_unpause)
    VALUES (0, old.time / 3600000, -(CASE WHEN old.pause = 32 THEN 1 ELSE 0 END), -(CASE WHEN old.pause = 64 THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET p_pause = p_pause + excluded.p_pause, p_unpause = p_unpause + excluded.p_unpause;
  INSERT INTO call_counts (level, bucket, p_pause, p_unpause)
    VALUES (1, old.time / 86400000, -(CASE WHEN old.pause = 32 THEN 1 ELSE 0 END), -(CASE WHEN old.pause = 64 THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET p_pause = p_pause + excluded.p_pause, p_unpause = p_unpause + excluded.p_unpause;
  INSERT INTO call_counts (level, bucket, p_pause, p_unpause)
    VALUES (0, new.time / 3600000, (CASE WHEN new.pause = 32 THEN 1 ELSE 0 END), (CASE WHEN new.pause = 64 THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET p_pause = p_pause + excluded.p_pause, p_unpause = p_unpause + excluded.p_unpause;
  INSERT INTO call_counts (level, bucket, p_pause, p_unpause)
    VALUES (1, new.time / 86400000, (CASE WHEN new.pause = 32 THEN 1 ELSE 0 END), (CASE WHEN new.pause = 64 THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET p_pause = p_pause + excluded.p_pause, p_unpause = p_unpause + excluded.p_unpause;
END;--> statement-breakpoint
CREATE TRIGGER `operator_history_pause_counts_delete` AFTER DELETE ON `operator_history` WHEN old.pause IS NOT NULL BEGIN
  INSERT INTO call_counts (level, bucket, p_pause, p_unpause)
    VALUES (0, old.time / 3600000, -(CASE WHEN old.pause = 32 THEN 1 ELSE 0 END), -(CASE WHEN old.pause = 64 THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET p_pause = p_pause + excluded.p_pause, p_unpause = p_unpause + excluded.p_unpause;
  INSERT INTO call_counts (level, bucket, p_pause, p_unpause)
    VALUES (1, old.time / 86400000, -(CASE WHEN old.pause = 32 THEN 1 ELSE 0 END), -(CASE WHEN old.pause = 64 THEN 1 ELSE 0 END))
    ON CONFLICT (level, bucket) DO UPDATE SET p_pause = p_pause + excluded.p_pause, p_unpause = p_unpause + excluded.p_unpause;
END;--> statement-breakpoint
CREATE TRIGGER `operator_history_pause` AFTER INSERT ON `operator_history`
WHEN new.status IN ('away', 'online') AND ((new.status = 'away' AND (new.previous_status IS NULL OR new.previous_status <> 'inuse' OR NOT coalesce((SELECT p.previous_status FROM operator_history p WHERE p.sip = new.sip AND p.id < new.id ORDER BY p.id DESC LIMIT 1) = 'away', 0))) OR (new.status = 'online' AND (new.previous_status = 'away' OR (new.previous_status = 'inuse' AND coalesce((SELECT p.previous_status FROM operator_history p WHERE p.sip = new.sip AND p.id < new.id ORDER BY p.id DESC LIMIT 1) = 'away', 0))))) BEGIN
  UPDATE operator_history SET pause = CASE WHEN (new.status = 'away' AND (new.previous_status IS NULL OR new.previous_status <> 'inuse' OR NOT coalesce((SELECT p.previous_status FROM operator_history p WHERE p.sip = new.sip AND p.id < new.id ORDER BY p.id DESC LIMIT 1) = 'away', 0))) THEN 32 ELSE 64 END WHERE id = new.id;
END;
