CREATE TABLE `endpoints` (
	`sip` text PRIMARY KEY NOT NULL,
	`tech` text DEFAULT 'PJSIP' NOT NULL,
	`status` text NOT NULL,
	`since` integer NOT NULL,
	`device_state` text,
	`contact` text,
	`user_agent` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `operator_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sip` text NOT NULL,
	`status` text NOT NULL,
	`previous_status` text,
	`reason` text NOT NULL,
	`time` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `operator_history_sip_id` ON `operator_history` (`sip`,`id`);