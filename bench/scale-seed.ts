/**
 * Data for `npm run bench -- --scale N`: one organization with N deals, N/5 contacts, N/2 tasks and 3N
 * activities, plus a noise organization a tenth of its size, written by set-based SQL (generate_series) in the
 * shape the API writes (bench/seed.ts makes contacts, deals and their status/stage activities; this adds tasks
 * and comments). Runs on PostgreSQL and PGlite.
 */
import { type Sql, seedOrganization } from './seed.js'

export interface ScaleShape {
  deals: number
  contacts: number
  tasks: number
  activities: number
}

export function scaleShape(deals: number): ScaleShape {
  return {
    deals,
    contacts: Math.max(10, Math.round(deals / 5)),
    tasks: Math.round(deals / 2),
    activities: deals * 3,
  }
}

function uuidv7At(ts: string): string {
  return `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing
    substring(int8send(floor(extract(epoch FROM ${ts}) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1),
    'hex')::uuid`
}

export async function seedScaleOrganization(
  sql: Sql,
  organizationId: string,
  ownerId: string,
  shape: ScaleShape,
  log: (message: string) => void,
): Promise<void> {
  let started = Date.now()
  const step = (label: string) => {
    log(`  ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    started = Date.now()
  }
  await seedOrganization(sql, { organizationId, ownerId, contacts: shape.contacts, deals: shape.deals })
  step(`${shape.contacts} contacts, ${shape.deals} deals and their status/stage activities`)

  // Tasks on random deals: due dates from 30 days ago to 90 days ahead (one in five without), 40% done.
  await sql(
    `WITH deal_list AS (
       SELECT id, created_at, (row_number() OVER (ORDER BY id) - 1)::int AS i
       FROM deals WHERE organization_id = $1::uuid
     ),
     raw AS (
       SELECT n, floor(random() * (SELECT count(*) FROM deal_list))::int AS deal_index, random() AS r
       FROM generate_series(1, $2::int) AS n
     )
     INSERT INTO tasks (organization_id, id, deal_id, title, description, due_date, is_done, created_at, updated_at)
     SELECT $1::uuid, ${uuidv7At('t.created_at')}, t.deal_id, t.title, NULL, t.due_date, t.is_done,
       t.created_at, t.created_at
     FROM (
       SELECT d.id AS deal_id, 'Follow up #' || raw.n AS title,
         CASE WHEN raw.r < 0.2 THEN NULL
              ELSE (current_date + ((raw.r * 120)::int - 30))::date END AS due_date,
         (raw.n % 5 < 2) AS is_done,
         date_trunc('milliseconds', d.created_at + random() * (now() - d.created_at)) AS created_at
       FROM raw JOIN deal_list d ON d.i = raw.deal_index
     ) t`,
    [organizationId, shape.tasks],
  )
  step(`${shape.tasks} tasks`)

  // Comments on random deals up to the activity total.
  const [existing] = await sql<{ count: number }>(
    'SELECT count(*)::int AS count FROM activities WHERE organization_id = $1::uuid',
    [organizationId],
  )
  const comments = Math.max(0, shape.activities - (existing?.count ?? 0))
  await sql(
    `WITH deal_list AS (
       SELECT id, created_at, (row_number() OVER (ORDER BY id) - 1)::int AS i
       FROM deals WHERE organization_id = $1::uuid
     ),
     raw AS (
       SELECT n, floor(random() * (SELECT count(*) FROM deal_list))::int AS deal_index
       FROM generate_series(1, $3::int) AS n
     )
     INSERT INTO activities (organization_id, id, deal_id, author_id, type, payload, created_at)
     SELECT $1::uuid, ${uuidv7At('a.created_at')}, a.deal_id, $2::uuid, 'comment',
       jsonb_build_object('text', 'Call notes ' || a.n), a.created_at
     FROM (
       SELECT raw.n, d.id AS deal_id,
         date_trunc('milliseconds', d.created_at + random() * (now() - d.created_at)) AS created_at
       FROM raw JOIN deal_list d ON d.i = raw.deal_index
     ) a`,
    [organizationId, ownerId, comments],
  )
  step(`${comments} comments`)
}
