CREATE TABLE `outbox_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_id` integer NOT NULL,
	`connector` text NOT NULL,
	`call_id` integer,
	`outcome` text NOT NULL,
	`code` integer,
	`error` text,
	`attempts` integer NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outbox_attempts_call` ON `outbox_attempts` (`call_id`);
