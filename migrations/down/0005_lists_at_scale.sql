-- Reverts 0005_lists_at_scale: the indexes it replaced come back, then everything it added goes.
DROP INDEX "companies_domain_trgm_idx";
--> statement-breakpoint
DROP INDEX "companies_name_trgm_idx";
--> statement-breakpoint
DROP TRIGGER companies_count_delete ON companies;
--> statement-breakpoint
DROP TRIGGER companies_count_update ON companies;
--> statement-breakpoint
DROP TRIGGER companies_count_insert ON companies;
--> statement-breakpoint
CREATE INDEX "deals_org_contact_idx" ON "deals" USING btree ("organization_id","contact_id");
--> statement-breakpoint
CREATE INDEX "tasks_org_deal_idx" ON "tasks" USING btree ("organization_id","deal_id");
--> statement-breakpoint
DROP INDEX "contacts_org_owner_name_idx";
--> statement-breakpoint
DROP INDEX "deals_org_contact_created_idx";
--> statement-breakpoint
DROP INDEX "deals_org_status_created_idx";
--> statement-breakpoint
DROP INDEX "tasks_org_deal_due_idx";
--> statement-breakpoint
DROP INDEX "tasks_org_open_due_idx";
--> statement-breakpoint
DROP INDEX "deals_title_trgm_idx";
--> statement-breakpoint
DROP INDEX "contacts_phone_trgm_idx";
--> statement-breakpoint
DROP INDEX "contacts_email_trgm_idx";
--> statement-breakpoint
DROP INDEX "contacts_name_trgm_idx";
--> statement-breakpoint
DROP TRIGGER tasks_count_delete ON tasks;
--> statement-breakpoint
DROP TRIGGER tasks_count_update ON tasks;
--> statement-breakpoint
DROP TRIGGER tasks_count_insert ON tasks;
--> statement-breakpoint
DROP TRIGGER deals_count_delete ON deals;
--> statement-breakpoint
DROP TRIGGER deals_count_update ON deals;
--> statement-breakpoint
DROP TRIGGER deals_count_insert ON deals;
--> statement-breakpoint
DROP TRIGGER contacts_count_delete ON contacts;
--> statement-breakpoint
DROP TRIGGER contacts_count_update ON contacts;
--> statement-breakpoint
DROP TRIGGER contacts_count_insert ON contacts;
--> statement-breakpoint
DROP FUNCTION list_counts_apply();
--> statement-breakpoint
DROP TABLE "list_counts";
--> statement-breakpoint
DROP EXTENSION IF EXISTS btree_gin;
--> statement-breakpoint
DROP EXTENSION IF EXISTS pg_trgm;
