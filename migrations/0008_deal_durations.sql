-- Velocity (spec §13) without reading every stay and won deal of the window: per organization, kind (a stage for
-- its stays, 'won' for creation → closed_at), UTC day the duration ended and whole days it lasted, the count, the
-- sum in milliseconds and how many lasted exactly those whole days (deals created already won all last 0 ms: the
-- median is found without reading them), kept exact by triggers in each writing transaction. A read sums the days wholly inside
-- the window, adds the rows of the window's first (partial) day, and reads only the middle value(s) of the
-- duration-day that holds the median from the rows themselves (the two expression indexes below).
CREATE TABLE "deal_durations" (
	"organization_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"end_day" date NOT NULL,
	"duration_day" integer NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	"total_ms" bigint DEFAULT 0 NOT NULL,
	"at_floor" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "deal_durations_pkey" PRIMARY KEY("organization_id","kind","end_day","duration_day"),
	CONSTRAINT "deal_durations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action
);
--> statement-breakpoint
-- A duration in whole milliseconds (timestamps have millisecond precision) and its whole days (floor).
CREATE FUNCTION "duration_ms"(p_start timestamptz, p_end timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT (extract(epoch FROM p_end - p_start) * 1000)::bigint $$;
--> statement-breakpoint
CREATE FUNCTION "deal_durations_add"(p_organization_id uuid, p_kind text, p_start timestamptz, p_end timestamptz, p_sign integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_ms bigint := duration_ms(p_start, p_end);
	v_day integer := floor(v_ms / 86400000.0)::integer;
	v_at_floor integer := CASE WHEN v_ms = v_day * 86400000::bigint THEN p_sign ELSE 0 END;
BEGIN
	INSERT INTO deal_durations AS t (organization_id, kind, end_day, duration_day, count, total_ms, at_floor)
	VALUES (p_organization_id, p_kind, (p_end AT TIME ZONE 'UTC')::date, v_day, p_sign, p_sign * v_ms, v_at_floor)
	ON CONFLICT (organization_id, kind, end_day, duration_day) DO UPDATE SET
		count = t.count + p_sign,
		total_ms = t.total_ms + p_sign * v_ms,
		at_floor = t.at_floor + v_at_floor;
END
$$;
--> statement-breakpoint
-- Stays: a stay counts once it has ended. Deleting a deal deletes its stays (cascade), which subtracts them.
CREATE FUNCTION "deal_stage_history_durations"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('mini_crm.bulk_delete', true) = 'on' THEN RETURN NULL; END IF;
	IF TG_OP = 'UPDATE' AND (OLD.stage, OLD.entered_at, OLD.exited_at) IS NOT DISTINCT FROM (NEW.stage, NEW.entered_at, NEW.exited_at) THEN
		RETURN NULL;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.exited_at IS NOT NULL THEN
		PERFORM deal_durations_add(OLD.organization_id, OLD.stage, OLD.entered_at, OLD.exited_at, -1);
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.exited_at IS NOT NULL THEN
		PERFORM deal_durations_add(NEW.organization_id, NEW.stage, NEW.entered_at, NEW.exited_at, 1);
	END IF;
	RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "deal_stage_history_durations" AFTER INSERT OR UPDATE OR DELETE ON "deal_stage_history"
FOR EACH ROW EXECUTE FUNCTION deal_stage_history_durations();
--> statement-breakpoint
-- Won deals: creation → closed_at. The WHEN clauses keep every other deal write (most of them) out of PL/pgSQL.
CREATE FUNCTION "deals_won_durations"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('mini_crm.bulk_delete', true) = 'on' THEN RETURN NULL; END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'won' AND OLD.closed_at IS NOT NULL THEN
		PERFORM deal_durations_add(OLD.organization_id, 'won', OLD.created_at, OLD.closed_at, -1);
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'won' AND NEW.closed_at IS NOT NULL THEN
		PERFORM deal_durations_add(NEW.organization_id, 'won', NEW.created_at, NEW.closed_at, 1);
	END IF;
	RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "deals_won_durations_insert" AFTER INSERT ON "deals"
FOR EACH ROW WHEN (NEW.status = 'won') EXECUTE FUNCTION deals_won_durations();
--> statement-breakpoint
CREATE TRIGGER "deals_won_durations_update" AFTER UPDATE ON "deals"
FOR EACH ROW WHEN ((OLD.status = 'won' OR NEW.status = 'won')
	AND (OLD.status, OLD.created_at, OLD.closed_at) IS DISTINCT FROM (NEW.status, NEW.created_at, NEW.closed_at))
EXECUTE FUNCTION deals_won_durations();
--> statement-breakpoint
CREATE TRIGGER "deals_won_durations_delete" AFTER DELETE ON "deals"
FOR EACH ROW WHEN (OLD.status = 'won') EXECUTE FUNCTION deals_won_durations();
--> statement-breakpoint
-- The median's values: the rows of one kind and duration-day, in duration order (the window's end filter is
-- checked on the included columns).
CREATE INDEX "deal_stage_history_org_stage_duration_idx" ON "deal_stage_history"
	("organization_id", "stage", (duration_ms("entered_at", "exited_at"))) INCLUDE ("entered_at", "exited_at")
	WHERE "exited_at" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "deals_org_won_duration_idx" ON "deals"
	("organization_id", (duration_ms("created_at", "closed_at"))) INCLUDE ("created_at", "closed_at")
	WHERE "status" = 'won';
--> statement-breakpoint
INSERT INTO "deal_durations" ("organization_id", "kind", "end_day", "duration_day", "count", "total_ms", "at_floor")
SELECT organization_id, kind, (ended AT TIME ZONE 'UTC')::date, floor(ms / 86400000.0)::integer, count(*), sum(ms),
	count(*) FILTER (WHERE ms % 86400000 = 0)
FROM (
	SELECT organization_id, stage AS kind, exited_at AS ended, duration_ms(entered_at, exited_at) AS ms
	FROM deal_stage_history WHERE exited_at IS NOT NULL
	UNION ALL
	SELECT organization_id, 'won', closed_at, duration_ms(created_at, closed_at)
	FROM deals WHERE status = 'won' AND closed_at IS NOT NULL
) d
GROUP BY 1, 2, 3, 4;
