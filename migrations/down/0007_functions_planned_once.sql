-- Reverts 0007_functions_planned_once: stage_probability and deal_month as 0002 created them.
CREATE OR REPLACE FUNCTION "stage_probability"(p_organization_id uuid, p_stage text) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT ps.probability::integer FROM pipeline_stages ps
      WHERE ps.organization_id = p_organization_id AND ps.stage = p_stage),
    CASE p_stage WHEN 'qualification' THEN 10 WHEN 'proposal' THEN 30 WHEN 'negotiation' THEN 60 ELSE 90 END)
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "deal_month"(p_status text, p_expected_close_date date, p_closed_at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_status IN ('new', 'in_progress') THEN coalesce(date_trunc('month', p_expected_close_date)::date, 'infinity'::date)
    WHEN p_status = 'won' THEN date_trunc('month', p_closed_at AT TIME ZONE 'UTC')::date
    ELSE 'infinity'::date END
$$;
