/**
 * Bulk data for the benchmark, written with set-based SQL (seconds instead of minutes of API calls) but shaped
 * exactly like rows the API writes: UUIDv7 ids carrying the row's creation time, owner = a member, money with
 * two decimals, won deals with amount > 0, deals created after their contact, and for every deal that left
 * its initial status/stage the `status_changed` / `stage_changed` activity the PATCH would have written.
 * Runs unchanged on PostgreSQL and PGlite.
 */

/** One parameterized statement; resolves to its rows. */
export type Sql = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>

export interface SeedTarget {
  organizationId: string
  ownerId: string
  contacts: number
  deals: number
}

/** UUIDv7 whose 48-bit timestamp is `ts` (RFC 9562): a v4 uuid with the time spliced in and version 7 set. */
function uuidv7At(ts: string): string {
  return `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing
    substring(int8send(floor(extract(epoch FROM ${ts}) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1),
    'hex')::uuid`
}

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Radia', 'Linus']
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson']
const DOMAINS = ['example.com', 'acme.test', 'globex.test', 'initech.test']
const DEAL_KINDS = ['Renewal', 'Upsell', 'Pilot', 'Enterprise license', 'Support plan', 'Onboarding']

function textArray(values: readonly string[]): string {
  return `ARRAY[${values.map((value) => `'${value}'`).join(', ')}]`
}

export async function seedOrganization(sql: Sql, target: SeedTarget): Promise<void> {
  const { organizationId, ownerId } = target
  const first = textArray(FIRST_NAMES)
  const last = textArray(LAST_NAMES)
  const domains = textArray(DOMAINS)
  // Contacts over the last 90 days; one in ten without email, one in four without phone.
  await sql(
    `INSERT INTO contacts (organization_id, id, owner_id, name, email, phone, created_at, updated_at)
     SELECT $1::uuid, ${uuidv7At('c.created_at')}, $2::uuid,
       c.first_name || ' ' || c.last_name || ' ' || c.n,
       CASE WHEN c.n % 10 = 0 THEN NULL
            ELSE lower(c.first_name || '.' || c.last_name || c.n || '@' || (${domains})[1 + c.n % ${DOMAINS.length}])
       END,
       CASE WHEN c.n % 4 = 0 THEN NULL ELSE '+1-555-' || lpad((c.n % 10000)::text, 4, '0') END,
       c.created_at,
       CASE WHEN c.n % 3 = 0 THEN c.created_at
            ELSE date_trunc('milliseconds', c.created_at + random() * (now() - c.created_at)) END
     FROM (
       SELECT n, (${first})[1 + n % ${FIRST_NAMES.length}] AS first_name,
         (${last})[1 + (n / ${FIRST_NAMES.length}) % ${LAST_NAMES.length}] AS last_name,
         date_trunc('milliseconds', now() - random() * interval '90 days') AS created_at
       FROM generate_series(1, $3::int) AS n
     ) c`,
    [organizationId, ownerId, target.contacts],
  )

  // Deals of random contacts, created after their contact. Status mix 30/30/20/20 (new/in_progress/won/lost),
  // stages that fit the status, amounts spread log-uniformly over 31.62..100000 (8% of new deals still at 0),
  // mostly USD. Deals still in their initial state were never updated.
  // In statements of DEAL_CHUNK deals, each its own transaction: the per-row trigger updates a few hundred
  // aggregate rows over and over, and within one transaction every update walks the row's chain of versions
  // (quadratic: a million deals in one statement did not finish in 25 minutes).
  for (let first = 1; first <= target.deals; first += DEAL_CHUNK) {
    await insertDeals(sql, organizationId, ownerId, first, Math.min(target.deals, first + DEAL_CHUNK - 1))
  }

  // The activities the PATCHes that moved these deals would have written (one step each, at updated_at).
  await sql(
    `INSERT INTO activities (organization_id, id, deal_id, author_id, type, payload, created_at)
     SELECT d.organization_id, ${uuidv7At('d.updated_at')}, d.id, d.owner_id, 'status_changed',
       jsonb_build_object('old_status', 'new', 'new_status', d.status), d.updated_at
     FROM deals d WHERE d.organization_id = $1::uuid AND d.status <> 'new'`,
    [organizationId],
  )
  await sql(
    `INSERT INTO activities (organization_id, id, deal_id, author_id, type, payload, created_at)
     SELECT d.organization_id, ${uuidv7At('d.updated_at')}, d.id, d.owner_id, 'stage_changed',
       jsonb_build_object('old_stage', 'qualification', 'new_stage', d.stage), d.updated_at
     FROM deals d WHERE d.organization_id = $1::uuid AND d.stage <> 'qualification'`,
    [organizationId],
  )
}

const DEAL_CHUNK = 20_000

async function insertDeals(sql: Sql, organizationId: string, ownerId: string, first: number, last: number) {
  const inserted = await sql<{ id: string; stage: string; updated_at: string }>(
    `WITH contact_list AS (
       SELECT id, created_at, (row_number() OVER (ORDER BY id) - 1)::int AS i
       FROM contacts WHERE organization_id = $1::uuid
     ),
     raw AS (
       SELECT n, random() AS r_status, random() AS r_stage, random() AS r_amount, random() AS r_currency,
         random() AS r_created, random() AS r_updated,
         floor(random() * (SELECT count(*) FROM contact_list))::int AS contact_index
       FROM generate_series($3::int, $4::int) AS n
     ),
     shaped AS (
       SELECT raw.*, c.id AS contact_id,
         date_trunc('milliseconds', c.created_at + r_created * (now() - c.created_at)) AS created_at,
         CASE WHEN r_status < 0.3 THEN 'new' WHEN r_status < 0.6 THEN 'in_progress'
              WHEN r_status < 0.8 THEN 'won' ELSE 'lost' END AS status
       FROM raw JOIN contact_list c ON c.i = raw.contact_index
     ),
     staged AS (
       SELECT shaped.*,
         CASE status
           WHEN 'new' THEN CASE WHEN r_stage < 0.7 THEN 'qualification' ELSE 'proposal' END
           WHEN 'in_progress' THEN CASE WHEN r_stage < 0.2 THEN 'qualification'
                                        WHEN r_stage < 0.6 THEN 'proposal' ELSE 'negotiation' END
           WHEN 'won' THEN CASE WHEN r_stage < 0.85 THEN 'closed' ELSE 'negotiation' END
           ELSE CASE WHEN r_stage < 0.3 THEN 'qualification' WHEN r_stage < 0.5 THEN 'proposal'
                     WHEN r_stage < 0.7 THEN 'negotiation' ELSE 'closed' END
         END AS stage
       FROM shaped
     ),
     timed AS (
       SELECT staged.*,
         CASE WHEN status = 'new' AND stage = 'qualification' THEN created_at
              ELSE date_trunc('milliseconds', created_at + r_updated * (now() - created_at)) END AS updated_at
       FROM staged
     )
     INSERT INTO deals (organization_id, id, contact_id, owner_id, title, amount, currency, status, stage,
                        created_at, updated_at, closed_at)
     SELECT $1::uuid, ${uuidv7At('s.created_at')}, s.contact_id, $2::uuid,
       (${textArray(DEAL_KINDS)})[1 + s.n % ${DEAL_KINDS.length}] || ' #' || s.n,
       CASE WHEN s.status = 'new' AND s.r_amount < 0.08 THEN 0
            ELSE round(power(10, 1.5 + 3.5 * s.r_amount)::numeric, 2) END,
       CASE WHEN s.r_currency < 0.85 THEN 'USD' WHEN s.r_currency < 0.95 THEN 'EUR' ELSE 'GBP' END,
       s.status, s.stage, s.created_at, s.updated_at,
       -- Won and lost deals were closed by the PATCH that last changed them (its activity is at updated_at).
       CASE WHEN s.status IN ('won', 'lost') THEN s.updated_at END
     FROM timed s
     RETURNING id, stage, updated_at::text`,
    [organizationId, ownerId, first, last],
  )
  // The stays that PATCH left: qualification from creation to updated_at, then the deal's stage (the insert's
  // trigger wrote one stay in the final stage from creation). One statement per chunk, like the insert, driven
  // by the inserted rows (primary-key lookups whatever the planner knows of the new rows).
  const moved = inserted.filter((row) => row.stage !== 'qualification')
  await sql(
    `WITH moved AS (
       SELECT * FROM unnest($2::uuid[], $3::text[], $4::timestamptz[]) AS m(id, stage, updated_at)
     ), exited AS (
       UPDATE deal_stage_history h SET stage = 'qualification', exited_at = m.updated_at
       FROM moved m WHERE h.organization_id = $1::uuid AND h.deal_id = m.id AND h.seq = 1
     ), stays AS (
       INSERT INTO deal_stage_history (organization_id, deal_id, seq, stage, entered_at)
       SELECT $1::uuid, id, 2, stage, updated_at FROM moved
     )
     UPDATE deals d SET stage_changed_at = m.updated_at
     FROM moved m WHERE d.organization_id = $1::uuid AND d.id = m.id`,
    [
      organizationId,
      moved.map((row) => row.id),
      moved.map((row) => row.stage),
      moved.map((row) => row.updated_at),
    ],
  )
}

/**
 * The steady state autovacuum keeps a database that grew this way in: planner statistics, and a visibility map
 * so counts can be answered from the indexes alone (for the service and the floor alike).
 */
export async function analyze(sql: Sql): Promise<void> {
  await sql('VACUUM (ANALYZE)')
}

export interface BenchIds {
  contactIds: string[]
  /** Deals in status `new` (W4 flips them to in_progress and back, so every PATCH is a real change). */
  newDealIds: string[]
}

export async function loadIds(sql: Sql, organizationId: string): Promise<BenchIds> {
  const contacts = await sql<{ id: string }>(
    'SELECT id FROM contacts WHERE organization_id = $1::uuid ORDER BY id',
    [organizationId],
  )
  const deals = await sql<{ id: string }>(
    `SELECT id FROM deals WHERE organization_id = $1::uuid AND status = 'new' ORDER BY id`,
    [organizationId],
  )
  return { contactIds: contacts.map((row) => row.id), newDealIds: deals.map((row) => row.id) }
}

export interface SeedSummary {
  contacts: number
  deals: Record<string, number>
  activities: number
}

export async function summarize(sql: Sql, organizationId: string): Promise<SeedSummary> {
  const [contacts] = await sql<{ count: number }>(
    'SELECT count(*)::int AS count FROM contacts WHERE organization_id = $1::uuid',
    [organizationId],
  )
  const deals = await sql<{ status: string; count: number }>(
    'SELECT status, count(*)::int AS count FROM deals WHERE organization_id = $1::uuid GROUP BY status',
    [organizationId],
  )
  const [activities] = await sql<{ count: number }>(
    'SELECT count(*)::int AS count FROM activities WHERE organization_id = $1::uuid',
    [organizationId],
  )
  return {
    contacts: contacts?.count ?? 0,
    deals: Object.fromEntries(deals.map((row) => [row.status, row.count])),
    activities: activities?.count ?? 0,
  }
}
