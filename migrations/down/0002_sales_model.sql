-- Reverts 0002_sales_model. The stage history, aggregates, pipeline settings, companies, the deals' sales fields
-- and organizations' default currencies are dropped (the activities the history was rebuilt from remain).
DROP TRIGGER IF EXISTS "deals_after_write" ON "deals";
--> statement-breakpoint
DROP TRIGGER IF EXISTS "deals_before_write" ON "deals";
--> statement-breakpoint
DROP FUNCTION IF EXISTS "deals_after_write"();
--> statement-breakpoint
DROP FUNCTION IF EXISTS "deals_before_write"();
--> statement-breakpoint
DROP FUNCTION IF EXISTS "deal_created_days_add"(uuid, timestamptz, integer);
--> statement-breakpoint
DROP FUNCTION IF EXISTS "deal_totals_add"(uuid, text, text, text, date, integer, numeric);
--> statement-breakpoint
DROP FUNCTION IF EXISTS "deal_totals_weighted"(integer[], numeric, integer);
--> statement-breakpoint
DROP FUNCTION IF EXISTS "deal_month"(text, date, timestamptz);
--> statement-breakpoint
DROP TABLE IF EXISTS "deal_created_days";
--> statement-breakpoint
DROP TABLE IF EXISTS "deal_totals";
--> statement-breakpoint
DROP TABLE IF EXISTS "deal_stage_history";
--> statement-breakpoint
DROP INDEX IF EXISTS "deals_org_status_closed_idx";
--> statement-breakpoint
DROP INDEX IF EXISTS "deals_org_close_date_idx";
--> statement-breakpoint
ALTER TABLE "deals" DROP CONSTRAINT IF EXISTS "deals_closed_at_check";
--> statement-breakpoint
ALTER TABLE "deals" DROP CONSTRAINT IF EXISTS "deals_lost_reason_check";
--> statement-breakpoint
ALTER TABLE "deals" DROP CONSTRAINT IF EXISTS "deals_stage_changed_by_users_id_fk";
--> statement-breakpoint
ALTER TABLE "deals" DROP COLUMN IF EXISTS "stage_changed_by";
--> statement-breakpoint
ALTER TABLE "deals" DROP COLUMN IF EXISTS "stage_changed_at";
--> statement-breakpoint
ALTER TABLE "deals" DROP COLUMN IF EXISTS "closed_at";
--> statement-breakpoint
ALTER TABLE "deals" DROP COLUMN IF EXISTS "lost_reason";
--> statement-breakpoint
ALTER TABLE "deals" DROP COLUMN IF EXISTS "expected_close_date";
--> statement-breakpoint
DROP FUNCTION IF EXISTS "deal_probability"(uuid, text, text);
--> statement-breakpoint
DROP FUNCTION IF EXISTS "stage_probability"(uuid, text);
--> statement-breakpoint
DROP TABLE IF EXISTS "pipeline_stages";
--> statement-breakpoint
DROP INDEX IF EXISTS "contacts_org_company_idx";
--> statement-breakpoint
ALTER TABLE "contacts" DROP CONSTRAINT IF EXISTS "contacts_company_fkey";
--> statement-breakpoint
ALTER TABLE "contacts" DROP COLUMN IF EXISTS "company_id";
--> statement-breakpoint
DROP TABLE IF EXISTS "companies";
--> statement-breakpoint
ALTER TABLE "organizations" DROP CONSTRAINT IF EXISTS "organizations_default_currency_check";
--> statement-breakpoint
ALTER TABLE "organizations" DROP COLUMN IF EXISTS "default_currency";
