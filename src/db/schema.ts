import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  check,
  date,
  foreignKey,
  index,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

export const ROLES = ['owner', 'admin', 'manager', 'member'] as const
export type Role = (typeof ROLES)[number]
export const DEAL_STATUSES = ['new', 'in_progress', 'won', 'lost'] as const
export type DealStatus = (typeof DEAL_STATUSES)[number]
/** In pipeline order: a move to an earlier index is a rollback. */
export const DEAL_STAGES = ['qualification', 'proposal', 'negotiation', 'closed'] as const
export type DealStage = (typeof DEAL_STAGES)[number]
export const ACTIVITY_TYPES = [
  'comment',
  'status_changed',
  'stage_changed',
  'task_created',
  'task_completed',
] as const
export type ActivityType = (typeof ACTIVITY_TYPES)[number]

function inList(column: string, values: readonly string[]) {
  return sql.raw(`${column} IN (${values.map((v) => `'${v}'`).join(', ')})`)
}

const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow()
const updatedAt = () => timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow()

// ---- Global tables -------------------------------------------------------------------------------

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // Stored lower-case; the index on lower() makes uniqueness case-insensitive even for rows written by hand.
    uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`),
    check('users_email_lower_check', sql`${t.email} = lower(${t.email})`),
  ],
)

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: createdAt(),
})

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Every token descended from one login shares the family; reuse revokes the family. */
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    rotatedAt: timestamp('rotated_at', { withTimezone: true, precision: 3 }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('refresh_tokens_token_hash_key').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
    index('refresh_tokens_user_idx').on(t.userId),
  ],
)

// ---- Tenant tables: organization_id leads every key ----------------------------------------------

export const memberships = pgTable(
  'memberships',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'memberships_pkey', columns: [t.organizationId, t.userId] }),
    index('memberships_user_idx').on(t.userId),
    check('memberships_role_check', inList('role', ROLES)),
  ],
)

export const contacts = pgTable(
  'contacts',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    email: text('email'),
    phone: text('phone'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'contacts_pkey', columns: [t.organizationId, t.id] }),
    index('contacts_org_created_idx').on(t.organizationId, t.createdAt, t.id),
    index('contacts_org_name_idx').on(t.organizationId, t.name, t.id),
    index('contacts_org_owner_created_idx').on(t.organizationId, t.ownerId, t.createdAt, t.id),
    index('contacts_org_owner_name_idx').on(t.organizationId, t.ownerId, t.name, t.id),
    index('contacts_name_trgm_idx').using('gin', t.name.op('gin_trgm_ops')),
    index('contacts_email_trgm_idx').using('gin', t.email.op('gin_trgm_ops')),
    index('contacts_phone_trgm_idx').using('gin', t.phone.op('gin_trgm_ops')),
  ],
)

export const deals = pgTable(
  'deals',
  {
    organizationId: uuid('organization_id').notNull(),
    id: uuid('id').notNull(),
    contactId: uuid('contact_id').notNull(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id),
    title: text('title').notNull(),
    amount: numeric('amount', { precision: 15, scale: 2 }).notNull().default('0'),
    currency: text('currency').notNull().default('USD'),
    status: text('status', { enum: DEAL_STATUSES }).notNull().default('new'),
    stage: text('stage', { enum: DEAL_STAGES }).notNull().default('qualification'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'deals_pkey', columns: [t.organizationId, t.id] }),
    // No cascade: the database itself refuses to delete a contact that still has deals.
    foreignKey({
      name: 'deals_contact_fkey',
      columns: [t.organizationId, t.contactId],
      foreignColumns: [contacts.organizationId, contacts.id],
    }),
    check('deals_status_check', inList('status', DEAL_STATUSES)),
    check('deals_stage_check', inList('stage', DEAL_STAGES)),
    check('deals_amount_check', sql`${t.amount} >= 0`),
    check('deals_currency_check', sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check('deals_won_amount_check', sql`${t.status} <> 'won' OR ${t.amount} > 0`),
    index('deals_org_created_idx').on(t.organizationId, t.createdAt, t.id),
    index('deals_org_updated_idx').on(t.organizationId, t.updatedAt, t.id),
    index('deals_org_amount_idx').on(t.organizationId, t.amount, t.id),
    index('deals_org_title_idx').on(t.organizationId, t.title, t.id),
    index('deals_org_status_amount_idx').on(t.organizationId, t.status, t.amount, t.id),
    index('deals_org_stage_status_idx').on(t.organizationId, t.stage, t.status),
    index('deals_org_owner_created_idx').on(t.organizationId, t.ownerId, t.createdAt, t.id),
    index('deals_org_status_created_idx').on(t.organizationId, t.status, t.createdAt, t.id),
    index('deals_org_contact_created_idx').on(t.organizationId, t.contactId, t.createdAt, t.id),
    index('deals_title_trgm_idx').using('gin', t.title.op('gin_trgm_ops')),
  ],
)

export const tasks = pgTable(
  'tasks',
  {
    organizationId: uuid('organization_id').notNull(),
    id: uuid('id').notNull(),
    dealId: uuid('deal_id').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    dueDate: date('due_date', { mode: 'string' }),
    isDone: boolean('is_done').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'tasks_pkey', columns: [t.organizationId, t.id] }),
    foreignKey({
      name: 'tasks_deal_fkey',
      columns: [t.organizationId, t.dealId],
      foreignColumns: [deals.organizationId, deals.id],
    }).onDelete('cascade'),
    index('tasks_org_due_idx').on(t.organizationId, t.dueDate, t.createdAt, t.id),
    index('tasks_org_open_due_idx')
      .on(t.organizationId, t.dueDate, t.createdAt, t.id)
      .where(sql`NOT ${t.isDone}`),
    index('tasks_org_deal_due_idx').on(t.organizationId, t.dealId, t.dueDate, t.createdAt, t.id),
  ],
)

export const activities = pgTable(
  'activities',
  {
    organizationId: uuid('organization_id').notNull(),
    id: uuid('id').notNull(),
    dealId: uuid('deal_id').notNull(),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    type: text('type', { enum: ACTIVITY_TYPES }).notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ name: 'activities_pkey', columns: [t.organizationId, t.id] }),
    foreignKey({
      name: 'activities_deal_fkey',
      columns: [t.organizationId, t.dealId],
      foreignColumns: [deals.organizationId, deals.id],
    }).onDelete('cascade'),
    check('activities_type_check', inList('type', ACTIVITY_TYPES)),
    index('activities_org_deal_created_idx').on(t.organizationId, t.dealId, t.createdAt, t.id),
  ],
)

/** Shards of an organization's analytics generation (sum = cache key part); see features/analytics/generation.ts. */
export const ANALYTICS_GENERATION_SHARDS = 16

export const analyticsGenerations = pgTable(
  'analytics_generations',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    shard: smallint('shard').notNull(),
    generation: bigint('generation', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    primaryKey({ name: 'analytics_generations_pkey', columns: [t.organizationId, t.shard] }),
    check('analytics_generations_shard_check', sql`shard >= 0 AND shard < 16`),
  ],
)

/**
 * Exact row counts per organization and list (migration 0005): statement triggers on contacts, deals and tasks
 * add to one of 16 shards in the writing transaction; `writes` sums to the list's write generation.
 */
export const listCounts = pgTable(
  'list_counts',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    list: text('list').notNull(),
    shard: smallint('shard').notNull(),
    total: bigint('total', { mode: 'number' }).notNull().default(0),
    writes: bigint('writes', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ name: 'list_counts_pkey', columns: [t.organizationId, t.list, t.shard] })],
)
