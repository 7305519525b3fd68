-- Reverts 0009_deal_updates_counted_by_row (the code of that release bumps analytics_generations itself).
CREATE TRIGGER deals_count_update AFTER UPDATE ON deals REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_apply('deals');
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "deals_after_write"() RETURNS trigger
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
