-- Lists at scale (spec §14): trigram search, per-organization list counters, indexes for the keyset orders.
-- Every index here was chosen from EXPLAIN (ANALYZE, BUFFERS) at a million deals (docs/performance.md).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS btree_gin;
--> statement-breakpoint
-- Exact row counts per organization and list, kept by statement triggers in the writing transaction (so bulk
-- SQL, cascades and imports are counted too). Writers add to one of 16 shards (by backend) instead of one hot
-- row; a reader sums at most 16 rows. `writes` only grows: its sum is the list's write generation, which keys
-- the cache of filtered counts.
CREATE TABLE "list_counts" (
	"organization_id" uuid NOT NULL,
	"list" text NOT NULL,
	"shard" smallint NOT NULL,
	"total" bigint NOT NULL DEFAULT 0,
	"writes" bigint NOT NULL DEFAULT 0,
	CONSTRAINT "list_counts_pkey" PRIMARY KEY("organization_id","list","shard")
);
--> statement-breakpoint
ALTER TABLE "list_counts" ADD CONSTRAINT "list_counts_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- Statement-level (transition tables): one counter update per statement and organization, not per row.
-- Rows of an organization being deleted are skipped (its counters go with it by the cascade).
CREATE FUNCTION list_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO list_counts AS c (organization_id, list, shard, total, writes)
    SELECT r.organization_id, TG_ARGV[0], pg_backend_pid() % 16, count(*), 1 FROM new_rows r
    WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = r.organization_id)
    GROUP BY r.organization_id
    ON CONFLICT (organization_id, list, shard)
    DO UPDATE SET total = c.total + excluded.total, writes = c.writes + 1;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO list_counts AS c (organization_id, list, shard, total, writes)
    SELECT r.organization_id, TG_ARGV[0], pg_backend_pid() % 16, -count(*), 1 FROM old_rows r
    WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = r.organization_id)
    GROUP BY r.organization_id
    ON CONFLICT (organization_id, list, shard)
    DO UPDATE SET total = c.total + excluded.total, writes = c.writes + 1;
  ELSE
    INSERT INTO list_counts AS c (organization_id, list, shard, total, writes)
    SELECT DISTINCT r.organization_id, TG_ARGV[0], pg_backend_pid() % 16, 0, 1 FROM new_rows r
    WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = r.organization_id)
    ON CONFLICT (organization_id, list, shard)
    DO UPDATE SET writes = c.writes + 1;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER contacts_count_insert AFTER INSERT ON contacts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('contacts');
--> statement-breakpoint
CREATE TRIGGER contacts_count_update AFTER UPDATE ON contacts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('contacts');
--> statement-breakpoint
CREATE TRIGGER contacts_count_delete AFTER DELETE ON contacts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('contacts');
--> statement-breakpoint
CREATE TRIGGER deals_count_insert AFTER INSERT ON deals REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('deals');
--> statement-breakpoint
CREATE TRIGGER deals_count_update AFTER UPDATE ON deals REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('deals');
--> statement-breakpoint
CREATE TRIGGER deals_count_delete AFTER DELETE ON deals REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('deals');
--> statement-breakpoint
CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('tasks');
--> statement-breakpoint
CREATE TRIGGER tasks_count_update AFTER UPDATE ON tasks REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('tasks');
--> statement-breakpoint
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('tasks');
--> statement-breakpoint
INSERT INTO list_counts (organization_id, list, shard, total, writes)
SELECT organization_id, 'contacts', 0, count(*), 1 FROM contacts GROUP BY organization_id
UNION ALL SELECT organization_id, 'deals', 0, count(*), 1 FROM deals GROUP BY organization_id
UNION ALL SELECT organization_id, 'tasks', 0, count(*), 1 FROM tasks GROUP BY organization_id;
--> statement-breakpoint
-- Trigram indexes for case-insensitive substring search (ILIKE '%q%'): plain GIN on the column; the
-- organization filter is rechecked on the candidate rows. (A btree_gin (organization_id, column) variant was
-- not measured yet; the extension above is created for it.)
CREATE INDEX "contacts_name_trgm_idx" ON "contacts" USING gin ("name" gin_trgm_ops);
--> statement-breakpoint
CREATE INDEX "contacts_email_trgm_idx" ON "contacts" USING gin ("email" gin_trgm_ops);
--> statement-breakpoint
CREATE INDEX "contacts_phone_trgm_idx" ON "contacts" USING gin ("phone" gin_trgm_ops);
--> statement-breakpoint
CREATE INDEX "deals_title_trgm_idx" ON "deals" USING gin ("title" gin_trgm_ops);
--> statement-breakpoint
-- Open tasks by due date (the task list's order) without reading done ones.
CREATE INDEX "tasks_org_open_due_idx" ON "tasks" USING btree ("organization_id","due_date","created_at","id") WHERE NOT "is_done";
--> statement-breakpoint
-- A deal's tasks in the list's order (replaces the (organization_id, deal_id) index, its prefix).
CREATE INDEX "tasks_org_deal_due_idx" ON "tasks" USING btree ("organization_id","deal_id","due_date","created_at","id");
--> statement-breakpoint
DROP INDEX "tasks_org_deal_idx";
--> statement-breakpoint
-- Filtered deal lists in the default order.
CREATE INDEX "deals_org_status_created_idx" ON "deals" USING btree ("organization_id","status","created_at","id");
--> statement-breakpoint
CREATE INDEX "deals_org_contact_created_idx" ON "deals" USING btree ("organization_id","contact_id","created_at","id");
--> statement-breakpoint
DROP INDEX "deals_org_contact_idx";
--> statement-breakpoint
CREATE INDEX "contacts_org_owner_name_idx" ON "contacts" USING btree ("organization_id","owner_id","name","id");
--> statement-breakpoint
-- Companies (v1.1, migration 0002): counted and searchable like contacts.
CREATE TRIGGER companies_count_insert AFTER INSERT ON companies REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('companies');
--> statement-breakpoint
CREATE TRIGGER companies_count_update AFTER UPDATE ON companies REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('companies');
--> statement-breakpoint
CREATE TRIGGER companies_count_delete AFTER DELETE ON companies REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('companies');
--> statement-breakpoint
INSERT INTO list_counts (organization_id, list, shard, total, writes)
SELECT organization_id, 'companies', 0, count(*), 1 FROM companies GROUP BY organization_id;
--> statement-breakpoint
CREATE INDEX "companies_name_trgm_idx" ON "companies" USING gin ("name" gin_trgm_ops);
--> statement-breakpoint
CREATE INDEX "companies_domain_trgm_idx" ON "companies" USING gin ("domain" gin_trgm_ops);
