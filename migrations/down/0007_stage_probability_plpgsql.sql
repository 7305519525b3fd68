-- Reverts 0007_stage_probability_plpgsql: stage_probability as 0002 created it.
CREATE OR REPLACE FUNCTION "stage_probability"(p_organization_id uuid, p_stage text) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT ps.probability::integer FROM pipeline_stages ps
      WHERE ps.organization_id = p_organization_id AND ps.stage = p_stage),
    CASE p_stage WHEN 'qualification' THEN 10 WHEN 'proposal' THEN 30 WHEN 'negotiation' THEN 60 ELSE 90 END)
$$;
