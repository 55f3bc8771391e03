CREATE TABLE `call_channels` (
	`uniqueid` text PRIMARY KEY NOT NULL,
	`call_id` integer NOT NULL,
	`channel` text,
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `call_channels_call` ON `call_channels` (`call_id`);--> statement-breakpoint
CREATE TABLE `cdrs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`fingerprint` text NOT NULL,
	`call_id` integer,
	`uniqueid` text,
	`linkedid` text,
	`phone` text NOT NULL,
	`extension` text NOT NULL,
	`path` text NOT NULL,
	`servable` integer DEFAULT false NOT NULL,
	`type` text,
	`call_at` integer,
	`duration` integer,
	`billsec` integer,
	`disposition` text,
	`fields` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cdrs_event_id_unique` ON `cdrs` (`event_id`);--> statement-breakpoint
CREATE INDEX `cdrs_call` ON `cdrs` (`call_id`);--> statement-breakpoint
CREATE INDEX `cdrs_phone` ON `cdrs` (`phone`,`id`);--> statement-breakpoint
CREATE TABLE `crm_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`order_id` text,
	`call_id` integer,
	`text` text,
	`payload` text NOT NULL,
	`time` integer NOT NULL,
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `crm_events_order` ON `crm_events` (`order_id`,`id`);--> statement-breakpoint
CREATE INDEX `crm_events_call` ON `crm_events` (`call_id`,`id`);--> statement-breakpoint
ALTER TABLE `calls` ADD `did` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `answered_at` integer;--> statement-breakpoint
ALTER TABLE `calls` ADD `operators` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `transfers` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `legs` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `recording_file` text;--> statement-breakpoint
UPDATE `calls` SET `direction` = 'outgoing' WHERE `direction` = 'outbound';--> statement-breakpoint
UPDATE `calls` SET `direction` = 'incoming' WHERE `direction` = 'inbound';--> statement-breakpoint
CREATE INDEX `calls_direction` ON `calls` (`direction`,`id`);--> statement-breakpoint
CREATE INDEX `calls_sip` ON `calls` (`sip`,`id`);--> statement-breakpoint
CREATE INDEX `calls_phone` ON `calls` (`phone`,`id`);
