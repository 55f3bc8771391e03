CREATE TABLE `call_statuses` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`call_id` integer NOT NULL,
	`order_id` text,
	`status` text NOT NULL,
	`time` integer NOT NULL,
	`details` text NOT NULL,
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `call_statuses_call` ON `call_statuses` (`call_id`,`id`);--> statement-breakpoint
CREATE INDEX `call_statuses_order` ON `call_statuses` (`order_id`,`id`);--> statement-breakpoint
CREATE TABLE `calls` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`origin` text DEFAULT 'api' NOT NULL,
	`direction` text DEFAULT 'outbound' NOT NULL,
	`control` text,
	`external_key` text,
	`request_fingerprint` text,
	`order_id` text,
	`sip` text,
	`phone` text,
	`status` text NOT NULL,
	`final` integer DEFAULT false NOT NULL,
	`linkedid` text,
	`operator_channel` text,
	`client_channel` text,
	`bridge_id` text,
	`created_at` integer NOT NULL,
	`operator_ring_at` integer,
	`operator_answer_at` integer,
	`client_ring_at` integer,
	`client_answer_at` integer,
	`ended_at` integer,
	`billsec` integer,
	`hangup_cause` integer,
	`hangup_cause_text` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `calls_external_key_unique` ON `calls` (`external_key`);--> statement-breakpoint
CREATE INDEX `calls_order_id` ON `calls` (`order_id`,`id`);--> statement-breakpoint
CREATE INDEX `calls_open` ON `calls` (`final`,`id`);--> statement-breakpoint
CREATE INDEX `calls_linkedid` ON `calls` (`linkedid`);--> statement-breakpoint
CREATE TABLE `recordings` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`call_id` integer NOT NULL,
	`order_id` text,
	`name` text NOT NULL,
	`file` text NOT NULL,
	`format` text NOT NULL,
	`size` integer,
	`duration` real,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `recordings_call` ON `recordings` (`call_id`);--> statement-breakpoint
CREATE INDEX `recordings_order` ON `recordings` (`order_id`,`id`);