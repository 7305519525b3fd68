-- Reverts 0000_init: drops every table it created, dependants first.
DROP TABLE "activities";
--> statement-breakpoint
DROP TABLE "tasks";
--> statement-breakpoint
DROP TABLE "deals";
--> statement-breakpoint
DROP TABLE "contacts";
--> statement-breakpoint
DROP TABLE "memberships";
--> statement-breakpoint
DROP TABLE "refresh_tokens";
--> statement-breakpoint
DROP TABLE "organizations";
--> statement-breakpoint
DROP TABLE "users";
