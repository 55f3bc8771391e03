CREATE TABLE `connector_calls` (
	`connector` text NOT NULL,
	`call_id` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`connector`, `call_id`)
);
--> statement-breakpoint
CREATE TABLE `outbox_calls` (
	`call_id` integer PRIMARY KEY NOT NULL,
	`uuid` text NOT NULL,
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_calls_uuid_unique` ON `outbox_calls` (`uuid`);--> statement-breakpoint
CREATE TABLE `outbox_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` integer NOT NULL,
	`connector` text NOT NULL,
	`call_id` integer,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`last_attempt_at` integer,
	`delivered_at` integer,
	`last_status` integer,
	`last_error` text,
	FOREIGN KEY (`event_id`) REFERENCES `outbox_events`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_deliveries_once` ON `outbox_deliveries` (`event_id`,`connector`);--> statement-breakpoint
CREATE INDEX `outbox_deliveries_queue` ON `outbox_deliveries` (`connector`,`status`,`call_id`,`id`);--> statement-breakpoint
CREATE INDEX `outbox_deliveries_status` ON `outbox_deliveries` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `outbox_deliveries_call` ON `outbox_deliveries` (`call_id`,`id`);--> statement-breakpoint
CREATE TABLE `outbox_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`uuid` text NOT NULL,
	`type` text NOT NULL,
	`call_id` integer,
	`time` integer NOT NULL,
	`payload` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_events_uuid_unique` ON `outbox_events` (`uuid`);