import { type SQL, sql } from 'drizzle-orm'
import { type Executor, queryRows } from '../../db/client.js'
import { companies, contacts, deals } from '../../db/schema.js'
import { substringPattern } from '../../lib/search.js'

export interface SearchHitRow {
  type: 'contact' | 'company' | 'deal'
  id: string
  title: string
  subtitle: string | null
}

/**
 * One searchable record type: its candidates (a trigram-indexed ILIKE), title and subtitle, and the similarity
 * it ranks by. Sources are a table so companies (v1.1) are one more entry.
 */
export interface SearchSource {
  type: SearchHitRow['type']
  select(organizationId: string, q: string, pattern: string): SQL
}

/** Rank columns every source returns: prefix matches of the title first, then similarity (pg_trgm), then id. */
function ranked(title: SQL, q: string, similarity: SQL): SQL {
  return sql`starts_with(lower(${title}), lower(${q})) AS prefix, ${similarity} AS similarity`
}

export const SEARCH_SOURCES: Record<string, SearchSource> = {
  contacts: {
    type: 'contact',
    // A contact matches on name, email or phone; it ranks by the best similarity of the three.
    select: (organizationId, q, pattern) => sql`
      SELECT 'contact' AS type, ${contacts.id} AS id, ${contacts.name} AS title, ${contacts.email} AS subtitle,
        ${ranked(
          sql`${contacts.name}`,
          q,
          sql`greatest(similarity(${contacts.name}, ${q}), coalesce(similarity(${contacts.email}, ${q}), 0),
            coalesce(similarity(${contacts.phone}, ${q}), 0))`,
        )}
      FROM ${contacts}
      WHERE ${contacts.organizationId} = ${organizationId}::uuid
        AND (${contacts.name} ILIKE ${pattern} OR ${contacts.email} ILIKE ${pattern} OR ${contacts.phone} ILIKE ${pattern})`,
  },
  companies: {
    type: 'company',
    select: (organizationId, q, pattern) => sql`
      SELECT 'company' AS type, ${companies.id} AS id, ${companies.name} AS title, ${companies.domain} AS subtitle,
        ${ranked(
          sql`${companies.name}`,
          q,
          sql`greatest(similarity(${companies.name}, ${q}), coalesce(similarity(${companies.domain}, ${q}), 0))`,
        )}
      FROM ${companies}
      WHERE ${companies.organizationId} = ${organizationId}::uuid
        AND (${companies.name} ILIKE ${pattern} OR ${companies.domain} ILIKE ${pattern})`,
  },
  deals: {
    type: 'deal',
    select: (organizationId, q, pattern) => sql`
      SELECT 'deal' AS type, ${deals.id} AS id, ${deals.title} AS title,
        (SELECT ${contacts.name} FROM ${contacts}
          WHERE ${contacts.organizationId} = ${deals.organizationId} AND ${contacts.id} = ${deals.contactId}) AS subtitle,
        ${ranked(sql`${deals.title}`, q, sql`similarity(${deals.title}, ${q})`)}
      FROM ${deals}
      WHERE ${deals.organizationId} = ${organizationId}::uuid AND ${deals.title} ILIKE ${pattern}`,
  },
}

/**
 * The best `limit` records of the organization matching `q` over the chosen sources. Each source is ranked and
 * cut to `limit` on its own (its trigram index finds the candidates), then the union is ranked again.
 */
export async function search(
  db: Executor,
  organizationId: string,
  q: string,
  types: string[],
  limit: number,
) {
  const pattern = substringPattern(q)
  const order = sql`ORDER BY prefix DESC, similarity DESC, id ASC LIMIT ${limit}`
  const branches = types.map(
    (type) => sql`(SELECT * FROM (${SEARCH_SOURCES[type]?.select(organizationId, q, pattern)}) s ${order})`,
  )
  return queryRows<SearchHitRow>(
    db,
    sql`SELECT type, id, title, subtitle FROM (${sql.join(branches, sql` UNION ALL `)}) hits ${order}`,
  )
}
