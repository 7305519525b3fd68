-- Analytics freshness (issue 8): the analytics cache key is the sum of an organization's generation shards,
-- bumped by every deal write inside its own transaction, so no crash can separate a change from its key.
-- Shards keep parallel deal writes of one organization from queueing on one row lock until their commits.
CREATE TABLE "analytics_generations" (
	"organization_id" uuid NOT NULL,
	"shard" smallint NOT NULL,
	"generation" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "analytics_generations_pkey" PRIMARY KEY("organization_id","shard"),
	CONSTRAINT "analytics_generations_shard_check" CHECK (shard >= 0 AND shard < 16)
);
--> statement-breakpoint
ALTER TABLE "analytics_generations" ADD CONSTRAINT "analytics_generations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;
