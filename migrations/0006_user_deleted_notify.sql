-- Deleting a user (by any client, the app or an operator's SQL) tells every listening instance in the same
-- transaction: NOTIFY is delivered at commit, so their membership caches forget the user at once (issue 8 §2).
CREATE FUNCTION notify_user_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mini_crm_user_deleted', OLD.id::text);
  RETURN OLD;
END
$$;
--> statement-breakpoint
CREATE TRIGGER users_notify_deleted AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION notify_user_deleted();
