-- Reverts 0001_foundation_v2. Cached analytics keyed by the dropped generations simply stop being found.
DROP TABLE "analytics_generations";
