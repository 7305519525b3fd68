DROP TRIGGER IF EXISTS users_notify_deleted ON users;
--> statement-breakpoint
DROP FUNCTION IF EXISTS notify_user_deleted();
