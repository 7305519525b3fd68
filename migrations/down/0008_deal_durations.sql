-- Reverts 0008_deal_durations.
DROP INDEX "deals_org_won_duration_idx";
--> statement-breakpoint
DROP INDEX "deal_stage_history_org_stage_duration_idx";
--> statement-breakpoint
DROP TRIGGER "deals_won_durations_delete" ON "deals";
--> statement-breakpoint
DROP TRIGGER "deals_won_durations_update" ON "deals";
--> statement-breakpoint
DROP TRIGGER "deals_won_durations_insert" ON "deals";
--> statement-breakpoint
DROP FUNCTION "deals_won_durations"();
--> statement-breakpoint
DROP TRIGGER "deal_stage_history_durations" ON "deal_stage_history";
--> statement-breakpoint
DROP FUNCTION "deal_stage_history_durations"();
--> statement-breakpoint
DROP FUNCTION "deal_durations_add"(uuid, text, timestamptz, timestamptz, integer);
--> statement-breakpoint
DROP FUNCTION "duration_ms"(timestamptz, timestamptz);
--> statement-breakpoint
DROP TABLE "deal_durations";
