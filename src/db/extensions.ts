import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin'
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm'

/**
 * PostgreSQL contrib extensions the migrations create (trigram search, btree_gin for organization-scoped GIN
 * indexes). PGlite ships them as bundles that must be handed to `PGlite.create`; PostgreSQL has them built in.
 */
export const PGLITE_EXTENSIONS = { pg_trgm, btree_gin }
