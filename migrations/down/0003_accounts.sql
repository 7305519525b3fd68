-- Reverts 0003_accounts: invitations, password resets and sessions go; refresh tokens stay (their families
-- lose only the session metadata).
DROP TABLE "invitations";
--> statement-breakpoint
DROP TABLE "password_resets";
--> statement-breakpoint
ALTER TABLE "refresh_tokens" DROP CONSTRAINT "refresh_tokens_family_fkey";
--> statement-breakpoint
DROP TABLE "sessions";
