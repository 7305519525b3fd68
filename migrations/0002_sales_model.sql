-- Sales model v1.1 (spec §10-§13): organization settings, companies, the deal's sales fields, per-organization
-- pipeline probabilities, stage history, and the aggregate rows that keep analytics exact at any size.
ALTER TABLE "organizations" ADD COLUMN "default_currency" text DEFAULT 'USD' NOT NULL;
--> statement-breakpoint
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_default_currency_check" CHECK ("organizations"."default_currency" ~ '^[A-Z]{3}$');
--> statement-breakpoint
CREATE TABLE "companies" (
	"organization_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"owner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"domain" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "companies_pkey" PRIMARY KEY("organization_id","id"),
	CONSTRAINT "companies_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action,
	CONSTRAINT "companies_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX "companies_org_domain_key" ON "companies" USING btree ("organization_id","domain");
--> statement-breakpoint
CREATE INDEX "companies_org_created_idx" ON "companies" USING btree ("organization_id","created_at","id");
--> statement-breakpoint
CREATE INDEX "companies_org_name_idx" ON "companies" USING btree ("organization_id","name","id");
--> statement-breakpoint
CREATE INDEX "companies_org_owner_created_idx" ON "companies" USING btree ("organization_id","owner_id","created_at","id");
--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "company_id" uuid;
--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_company_fkey" FOREIGN KEY ("organization_id","company_id") REFERENCES "public"."companies"("organization_id","id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "contacts_org_company_idx" ON "contacts" USING btree ("organization_id","company_id");
--> statement-breakpoint
CREATE TABLE "pipeline_stages" (
	"organization_id" uuid NOT NULL,
	"stage" text NOT NULL,
	"probability" smallint NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pipeline_stages_pkey" PRIMARY KEY("organization_id","stage"),
	CONSTRAINT "pipeline_stages_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action,
	CONSTRAINT "pipeline_stages_stage_check" CHECK (stage IN ('qualification', 'proposal', 'negotiation', 'closed')),
	CONSTRAINT "pipeline_stages_probability_check" CHECK ("pipeline_stages"."probability" BETWEEN 0 AND 100)
);
--> statement-breakpoint
-- The probability of a stage for an organization: its own setting, else the default (spec §12).
CREATE FUNCTION "stage_probability"(p_organization_id uuid, p_stage text) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT ps.probability::integer FROM pipeline_stages ps
      WHERE ps.organization_id = p_organization_id AND ps.stage = p_stage),
    CASE p_stage WHEN 'qualification' THEN 10 WHEN 'proposal' THEN 30 WHEN 'negotiation' THEN 60 ELSE 90 END)
$$;
--> statement-breakpoint
-- A deal's probability: 100 when won, 0 when lost, else its stage's.
CREATE FUNCTION "deal_probability"(p_organization_id uuid, p_status text, p_stage text) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT CASE p_status WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE stage_probability(p_organization_id, p_stage) END
$$;
--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "expected_close_date" date;
--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "lost_reason" text;
--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "closed_at" timestamp (3) with time zone;
--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "stage_changed_at" timestamp (3) with time zone;
--> statement-breakpoint
ALTER TABLE "deals" ADD COLUMN "stage_changed_by" uuid;
--> statement-breakpoint
ALTER TABLE "deals" ADD CONSTRAINT "deals_stage_changed_by_users_id_fk" FOREIGN KEY ("stage_changed_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;
--> statement-breakpoint
-- Existing deals: the stage and status times come from their activities (the last stage_changed, the last
-- status_changed into the current closed status); without one, creation (stage) or the last update (status).
UPDATE "deals" d SET
	"stage_changed_at" = coalesce(
		(SELECT max(a.created_at) FROM activities a
		  WHERE a.organization_id = d.organization_id AND a.deal_id = d.id AND a.type = 'stage_changed'),
		d.created_at),
	"stage_changed_by" = coalesce(
		(SELECT a.author_id FROM activities a
		  WHERE a.organization_id = d.organization_id AND a.deal_id = d.id AND a.type = 'stage_changed'
		  ORDER BY a.created_at DESC, a.id DESC LIMIT 1),
		d.owner_id),
	"closed_at" = CASE WHEN d.status IN ('won', 'lost') THEN coalesce(
		(SELECT max(a.created_at) FROM activities a
		  WHERE a.organization_id = d.organization_id AND a.deal_id = d.id AND a.type = 'status_changed'
		    AND a.payload->>'new_status' = d.status),
		d.updated_at) END;
--> statement-breakpoint
ALTER TABLE "deals" ALTER COLUMN "stage_changed_at" SET DEFAULT now();
--> statement-breakpoint
ALTER TABLE "deals" ALTER COLUMN "stage_changed_at" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "deals" ADD CONSTRAINT "deals_lost_reason_check" CHECK ("deals"."lost_reason" IS NULL OR ("deals"."status" = 'lost' AND char_length("deals"."lost_reason") BETWEEN 1 AND 500));
--> statement-breakpoint
ALTER TABLE "deals" ADD CONSTRAINT "deals_closed_at_check" CHECK (("deals"."closed_at" IS NOT NULL) = ("deals"."status" IN ('won', 'lost')));
--> statement-breakpoint
CREATE INDEX "deals_org_close_date_idx" ON "deals" USING btree ("organization_id","expected_close_date","id");
--> statement-breakpoint
CREATE INDEX "deals_org_status_closed_idx" ON "deals" USING btree ("organization_id","status","closed_at","created_at");
--> statement-breakpoint
CREATE TABLE "deal_stage_history" (
	"organization_id" uuid NOT NULL,
	"deal_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"stage" text NOT NULL,
	"entered_at" timestamp (3) with time zone NOT NULL,
	"exited_at" timestamp (3) with time zone,
	"changed_by" uuid,
	CONSTRAINT "deal_stage_history_pkey" PRIMARY KEY("organization_id","deal_id","seq"),
	CONSTRAINT "deal_stage_history_deal_fkey" FOREIGN KEY ("organization_id","deal_id") REFERENCES "public"."deals"("organization_id","id") ON DELETE cascade ON UPDATE no action,
	CONSTRAINT "deal_stage_history_changed_by_users_id_fk" FOREIGN KEY ("changed_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action,
	CONSTRAINT "deal_stage_history_stage_check" CHECK (stage IN ('qualification', 'proposal', 'negotiation', 'closed')),
	CONSTRAINT "deal_stage_history_interval_check" CHECK ("deal_stage_history"."exited_at" IS NULL OR "deal_stage_history"."exited_at" >= "deal_stage_history"."entered_at")
);
--> statement-breakpoint
CREATE INDEX "deal_stage_history_org_exited_idx" ON "deal_stage_history" USING btree ("organization_id","exited_at","stage","entered_at") WHERE "deal_stage_history"."exited_at" IS NOT NULL;
--> statement-breakpoint
-- Reconstruct the history of existing deals from their stage_changed activities: the first stay starts at
-- creation in the stage the first change left (the current stage without changes), each change starts the next
-- stay at its activity's time, by its author; each stay ends where the next begins.
INSERT INTO "deal_stage_history" ("organization_id", "deal_id", "seq", "stage", "entered_at", "exited_at", "changed_by")
WITH changes AS (
	SELECT a.organization_id, a.deal_id, a.created_at, a.author_id,
	       a.payload->>'old_stage' AS old_stage, a.payload->>'new_stage' AS new_stage,
	       row_number() OVER (PARTITION BY a.organization_id, a.deal_id ORDER BY a.created_at, a.id) AS n
	FROM activities a WHERE a.type = 'stage_changed'
), stays AS (
	SELECT d.organization_id, d.id AS deal_id, 0::bigint AS n, coalesce(c.old_stage, d.stage) AS stage,
	       d.created_at AS entered_at, d.owner_id AS changed_by
	FROM deals d
	LEFT JOIN changes c ON c.organization_id = d.organization_id AND c.deal_id = d.id AND c.n = 1
	UNION ALL
	SELECT organization_id, deal_id, n, new_stage, created_at, author_id FROM changes
)
SELECT organization_id, deal_id, (n + 1)::integer, stage, entered_at,
       lead(entered_at) OVER (PARTITION BY organization_id, deal_id ORDER BY n), changed_by
FROM stays;
--> statement-breakpoint
CREATE TABLE "deal_totals" (
	"organization_id" uuid NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"stage" text NOT NULL,
	"month" date NOT NULL,
	"shard" smallint NOT NULL,
	"deal_count" integer DEFAULT 0 NOT NULL,
	"amount" numeric(20, 2) DEFAULT '0' NOT NULL,
	"cents_hist" integer[] NOT NULL,
	"probability" smallint,
	"weighted" numeric(20, 2) DEFAULT '0' NOT NULL,
	CONSTRAINT "deal_totals_pkey" PRIMARY KEY("organization_id","currency","status","stage","month","shard"),
	CONSTRAINT "deal_totals_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action
);
--> statement-breakpoint
CREATE TABLE "deal_created_days" (
	"organization_id" uuid NOT NULL,
	"day" date NOT NULL,
	"shard" smallint NOT NULL,
	"deal_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "deal_created_days_pkey" PRIMARY KEY("organization_id","day","shard"),
	CONSTRAINT "deal_created_days_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action
);
--> statement-breakpoint
-- The forecast month of a deal: open deals by expected close date, won deals by the UTC month they closed;
-- 'infinity' for open deals without a date and for lost deals.
CREATE FUNCTION "deal_month"(p_status text, p_expected_close_date date, p_closed_at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_status IN ('new', 'in_progress') THEN coalesce(date_trunc('month', p_expected_close_date)::date, 'infinity'::date)
    WHEN p_status = 'won' THEN date_trunc('month', p_closed_at AT TIME ZONE 'UTC')::date
    ELSE 'infinity'::date END
$$;
--> statement-breakpoint
-- Sum of round_half_up(cents × p / 100) over the deals of an aggregate row, from its cents-remainder histogram:
-- for cents = 100q + r, round(cents × p / 100) = q × p + floor((r × p + 50) / 100). Exact, in integers/NUMERIC.
CREATE FUNCTION "deal_totals_weighted"(p_hist integer[], p_amount numeric, p_probability integer) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
  SELECT ((p_probability * ((p_amount * 100 - s.r_sum) / 100) + s.w_sum) / 100)::numeric(20, 2)
  FROM (SELECT coalesce(sum((u.i - 1) * u.h::bigint), 0) AS r_sum,
               coalesce(sum(u.h::bigint * (((u.i - 1) * p_probability + 50) / 100)), 0) AS w_sum
        FROM unnest(p_hist) WITH ORDINALITY AS u(h, i)) s
$$;
--> statement-breakpoint
-- Adds (sign = 1) or removes (sign = -1) one deal to its aggregate row. The row is one of 8 shards picked by the
-- connection, so concurrent writers rarely wait on one row; `weighted` is kept at the row's own `probability`
-- (a row updated under its lock always adds with the probability it holds), so weighted = the histogram formula.
CREATE FUNCTION "deal_totals_add"(p_organization_id uuid, p_currency text, p_status text, p_stage text, p_month date, p_sign integer, p_amount numeric) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_cents bigint := (p_amount * 100)::bigint;
	v_r integer := (v_cents % 100)::integer;
	v_open boolean := p_status IN ('new', 'in_progress');
	v_probability integer;
	v_hist integer[] := array_fill(0, ARRAY[100]);
BEGIN
	IF v_open THEN v_probability := stage_probability(p_organization_id, p_stage); END IF;
	v_hist[v_r + 1] := p_sign;
	INSERT INTO deal_totals AS t (organization_id, currency, status, stage, month, shard, deal_count, amount, cents_hist, probability, weighted)
	VALUES (p_organization_id, p_currency, p_status, p_stage, p_month, (pg_backend_pid() % 8)::smallint, p_sign, p_sign * p_amount, v_hist,
	        v_probability, CASE WHEN v_open THEN p_sign * ((v_cents * v_probability + 50) / 100) / 100.0 ELSE 0 END)
	ON CONFLICT (organization_id, currency, status, stage, month, shard) DO UPDATE SET
		deal_count = t.deal_count + p_sign,
		amount = t.amount + p_sign * p_amount,
		cents_hist[v_r + 1] = t.cents_hist[v_r + 1] + p_sign,
		weighted = t.weighted + CASE WHEN v_open THEN p_sign * ((v_cents * t.probability + 50) / 100) / 100.0 ELSE 0 END;
END $$;
--> statement-breakpoint
CREATE FUNCTION "deal_created_days_add"(p_organization_id uuid, p_created_at timestamptz, p_sign integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO deal_created_days AS t (organization_id, day, shard, deal_count)
	VALUES (p_organization_id, (p_created_at AT TIME ZONE 'UTC')::date, (pg_backend_pid() % 8)::smallint, p_sign)
	ON CONFLICT (organization_id, day, shard) DO UPDATE SET deal_count = t.deal_count + p_sign;
END $$;
--> statement-breakpoint
-- Before a deal is written: the times the API shows but never accepts, taken on the database clock while the
-- row is locked (so concurrent changes of one deal get increasing times), and lost_reason leaving with `lost`.
CREATE FUNCTION "deals_before_write"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		NEW.stage_changed_at := NEW.created_at;
		IF NEW.status IN ('won', 'lost') THEN NEW.closed_at := coalesce(NEW.closed_at, NEW.created_at);
		ELSE NEW.closed_at := NULL; END IF;
	ELSE
		IF NEW.stage IS DISTINCT FROM OLD.stage THEN NEW.stage_changed_at := clock_timestamp(); END IF;
		IF NEW.status IS DISTINCT FROM OLD.status THEN
			NEW.closed_at := CASE WHEN NEW.status IN ('won', 'lost') THEN clock_timestamp() END;
		END IF;
	END IF;
	IF NEW.status <> 'lost' THEN NEW.lost_reason := NULL; END IF;
	RETURN NEW;
END $$;
--> statement-breakpoint
-- After a deal is written, in its transaction: the stage history (one stay per stage, chained exactly) and the
-- aggregate rows. Bulk deletes of a whole organization set mini_crm.bulk_delete and drop the rows themselves.
CREATE FUNCTION "deals_after_write"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_seq integer;
	v_old_month date;
	v_new_month date;
BEGIN
	IF current_setting('mini_crm.bulk_delete', true) = 'on' THEN RETURN NULL; END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO deal_stage_history (organization_id, deal_id, seq, stage, entered_at, changed_by)
		VALUES (NEW.organization_id, NEW.id, 1, NEW.stage, NEW.stage_changed_at, NEW.stage_changed_by);
		PERFORM deal_totals_add(NEW.organization_id, NEW.currency, NEW.status, NEW.stage,
			deal_month(NEW.status, NEW.expected_close_date, NEW.closed_at), 1, NEW.amount);
		PERFORM deal_created_days_add(NEW.organization_id, NEW.created_at, 1);
		RETURN NULL;
	END IF;
	IF TG_OP = 'DELETE' THEN
		PERFORM deal_totals_add(OLD.organization_id, OLD.currency, OLD.status, OLD.stage,
			deal_month(OLD.status, OLD.expected_close_date, OLD.closed_at), -1, OLD.amount);
		PERFORM deal_created_days_add(OLD.organization_id, OLD.created_at, -1);
		RETURN NULL;
	END IF;
	IF NEW.stage IS DISTINCT FROM OLD.stage THEN
		UPDATE deal_stage_history SET exited_at = NEW.stage_changed_at
		WHERE organization_id = NEW.organization_id AND deal_id = NEW.id AND exited_at IS NULL
		RETURNING seq INTO v_seq;
		IF v_seq IS NULL THEN
			SELECT coalesce(max(seq), 0) INTO v_seq FROM deal_stage_history
			WHERE organization_id = NEW.organization_id AND deal_id = NEW.id;
		END IF;
		INSERT INTO deal_stage_history (organization_id, deal_id, seq, stage, entered_at, changed_by)
		VALUES (NEW.organization_id, NEW.id, v_seq + 1, NEW.stage, NEW.stage_changed_at, NEW.stage_changed_by);
	END IF;
	v_old_month := deal_month(OLD.status, OLD.expected_close_date, OLD.closed_at);
	v_new_month := deal_month(NEW.status, NEW.expected_close_date, NEW.closed_at);
	IF (OLD.currency, OLD.status, OLD.stage, v_old_month, OLD.amount)
	   IS DISTINCT FROM (NEW.currency, NEW.status, NEW.stage, v_new_month, NEW.amount) THEN
		-- Two rows in one fixed order (by key), so two writers never wait on each other's rows in a cycle.
		IF (OLD.currency, OLD.status, OLD.stage, v_old_month) <= (NEW.currency, NEW.status, NEW.stage, v_new_month) THEN
			PERFORM deal_totals_add(OLD.organization_id, OLD.currency, OLD.status, OLD.stage, v_old_month, -1, OLD.amount);
			PERFORM deal_totals_add(NEW.organization_id, NEW.currency, NEW.status, NEW.stage, v_new_month, 1, NEW.amount);
		ELSE
			PERFORM deal_totals_add(NEW.organization_id, NEW.currency, NEW.status, NEW.stage, v_new_month, 1, NEW.amount);
			PERFORM deal_totals_add(OLD.organization_id, OLD.currency, OLD.status, OLD.stage, v_old_month, -1, OLD.amount);
		END IF;
	END IF;
	-- created_at never changes through the API; a change by hand still keeps the per-day counts exact.
	IF NEW.created_at IS DISTINCT FROM OLD.created_at THEN
		PERFORM deal_created_days_add(OLD.organization_id, OLD.created_at, -1);
		PERFORM deal_created_days_add(NEW.organization_id, NEW.created_at, 1);
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
-- Existing deals enter the aggregates once (histogram per row from the counts per cents remainder), then the
-- triggers keep them.
INSERT INTO "deal_totals" ("organization_id", "currency", "status", "stage", "month", "shard", "deal_count", "amount", "cents_hist", "probability", "weighted")
WITH per_remainder AS (
	SELECT d.organization_id, d.currency, d.status, d.stage,
	       deal_month(d.status, d.expected_close_date, d.closed_at) AS month,
	       ((d.amount * 100)::bigint % 100)::integer AS r, count(*)::integer AS n, sum(d.amount) AS amount,
	       sum(CASE WHEN d.status IN ('new', 'in_progress')
	                THEN round(d.amount * stage_probability(d.organization_id, d.stage) / 100, 2) ELSE 0 END) AS weighted
	FROM deals d GROUP BY 1, 2, 3, 4, 5, 6
)
SELECT organization_id, currency, status, stage, month, 0, sum(n)::integer, sum(amount),
       ARRAY(SELECT coalesce((jsonb_object_agg(r, n)->>(v::text))::integer, 0) FROM generate_series(0, 99) AS v ORDER BY v),
       CASE WHEN status IN ('new', 'in_progress') THEN stage_probability(organization_id, stage) END,
       sum(weighted)
FROM per_remainder GROUP BY 1, 2, 3, 4, 5;
--> statement-breakpoint
INSERT INTO "deal_created_days" ("organization_id", "day", "shard", "deal_count")
SELECT organization_id, (created_at AT TIME ZONE 'UTC')::date, 0, count(*)::integer FROM deals GROUP BY 1, 2;
--> statement-breakpoint
CREATE TRIGGER "deals_before_write" BEFORE INSERT OR UPDATE ON "deals" FOR EACH ROW EXECUTE FUNCTION deals_before_write();
--> statement-breakpoint
CREATE TRIGGER "deals_after_write" AFTER INSERT OR UPDATE OR DELETE ON "deals" FOR EACH ROW EXECUTE FUNCTION deals_after_write();
