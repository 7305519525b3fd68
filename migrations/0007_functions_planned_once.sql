-- Functions PostgreSQL plans once instead of in every statement or transaction that calls them.
--
-- stage_probability as PL/pgSQL: a LANGUAGE sql function whose body has a subquery is never inlined, so
-- PostgreSQL parsed and planned it again in every statement (and every deal write's trigger transaction) that
-- called it, and started an executor per call. PL/pgSQL keeps its plan for the session. Same result.
-- Hot reads no longer call it (they inline the lookup: src/features/pipeline/probability.ts).
CREATE OR REPLACE FUNCTION "stage_probability"(p_organization_id uuid, p_stage text) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_probability integer;
BEGIN
	SELECT ps.probability::integer INTO v_probability FROM pipeline_stages ps
	WHERE ps.organization_id = p_organization_id AND ps.stage = p_stage;
	RETURN coalesce(v_probability,
		CASE p_stage WHEN 'qualification' THEN 10 WHEN 'proposal' THEN 30 WHEN 'negotiation' THEN 60 ELSE 90 END);
END
$$;
--> statement-breakpoint
-- deal_month was never inlined either: date_trunc('month', <date>) resolves to the timestamptz variant, which is
-- only STABLE (it reads TimeZone), and PostgreSQL inlines an IMMUTABLE function only when its body is immutable.
-- On a plain timestamp it is immutable; the month is the same date in every time zone.
CREATE OR REPLACE FUNCTION "deal_month"(p_status text, p_expected_close_date date, p_closed_at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_status IN ('new', 'in_progress') THEN coalesce(date_trunc('month', p_expected_close_date::timestamp)::date, 'infinity'::date)
    WHEN p_status = 'won' THEN date_trunc('month', p_closed_at AT TIME ZONE 'UTC')::date
    ELSE 'infinity'::date END
$$;
