-- Reverts 0004_integrations: drops the integration tables, dependants first. Events, deliveries, webhooks,
-- API keys and idempotency records are lost (nothing else refers to them).
DROP TABLE "webhook_deliveries";
--> statement-breakpoint
DROP TABLE "webhooks";
--> statement-breakpoint
DROP TABLE "events";
--> statement-breakpoint
DROP TABLE "idempotency_keys";
--> statement-breakpoint
DROP TABLE "api_keys";
