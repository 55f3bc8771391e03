CREATE TABLE `call_children` (
	`uuid` text PRIMARY KEY NOT NULL,
	`call_id` integer NOT NULL,
	`uniqueid` text NOT NULL,
	`sip` text NOT NULL,
	`created_at` integer NOT NULL,
	`answer_at` integer,
	`ended_at` integer,
	`dial_status` text,
	`cause` integer,
	`final` integer DEFAULT false NOT NULL,
	`direction` text NOT NULL,
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `call_children_leg` ON `call_children` (`call_id`,`uniqueid`);--> statement-breakpoint
CREATE INDEX `call_children_created` ON `call_children` (`created_at`);--> statement-breakpoint
ALTER TABLE `calls` ADD `group_kind` text;--> statement-breakpoint
ALTER TABLE `calls` ADD `group_ext` text;