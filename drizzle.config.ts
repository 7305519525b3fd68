import { defineConfig } from 'drizzle-kit'

// Only `db:generate` uses drizzle-kit; migrations are applied by scripts/db.ts (which also rolls back).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
})
