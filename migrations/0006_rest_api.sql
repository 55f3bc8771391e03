CREATE TABLE `contact_ids` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL
);
--> statement-breakpoint
CREATE TABLE `contact_notes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` integer NOT NULL,
	`date_create` integer NOT NULL,
	`last_modified` integer NOT NULL,
	`data` text NOT NULL,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `contact_notes_contact` ON `contact_notes` (`contact_id`,`id`);--> statement-breakpoint
CREATE TABLE `contact_phones` (
	`digits` text NOT NULL,
	`contact_id` integer NOT NULL,
	PRIMARY KEY(`digits`, `contact_id`),
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `contact_phones_contact` ON `contact_phones` (`contact_id`);--> statement-breakpoint
CREATE TABLE `contacts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`first_name` text,
	`last_name` text,
	`company_title` text,
	`responsible_user_id` integer,
	`create_user_id` integer,
	`date_create` integer NOT NULL,
	`last_modified` integer NOT NULL,
	`fields` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `contacts_modified` ON `contacts` (`last_modified`,`id`);--> statement-breakpoint
CREATE INDEX `contacts_created` ON `contacts` (`date_create`,`id`);--> statement-breakpoint
CREATE TABLE `daemon_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rest_sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`key_hash` text NOT NULL,
	`domain` text NOT NULL,
	`ext` text,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rest_sessions_seen` ON `rest_sessions` (`last_seen_at`);--> statement-breakpoint
CREATE TABLE `rest_user_ids` (
	`sip` text PRIMARY KEY NOT NULL,
	`id` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `rest_user_ids_id_unique` ON `rest_user_ids` (`id`);--> statement-breakpoint
CREATE INDEX `calls_created` ON `calls` (`created_at`,`id`,`final`,`direction`);--> statement-breakpoint
CREATE INDEX `calls_missed` ON `calls` (`created_at`,`id`) WHERE "calls"."direction" = 'incoming' AND "calls"."final" = 1 AND "calls"."answered_at" IS NULL AND "calls"."client_answer_at" IS NULL AND "calls"."status" <> 'FINISH';--> statement-breakpoint
CREATE INDEX `operator_history_time` ON `operator_history` (`time`,`id`);