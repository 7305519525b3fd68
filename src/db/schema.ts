import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
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

export const organizations = pgTable(
  'organizations',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    createdAt: createdAt(),
    defaultCurrency: text('default_currency').notNull().default('USD'),
  },
  (t) => [check('organizations_default_currency_check', sql`${t.defaultCurrency} ~ '^[A-Z]{3}$'`)],
)

/** A login: the refresh-token family and what the user sees of it (spec §15); `sid` of its access tokens. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userAgent: text('user_agent'),
    ip: text('ip'),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    index('sessions_user_idx').on(t.userId),
    // The revoked-session set every instance loads at start reads recent revocations only.
    index('sessions_revoked_idx').on(t.revokedAt).where(sql`${t.revokedAt} IS NOT NULL`),
  ],
)

export const passwordResets = pgTable(
  'password_resets',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex('password_resets_token_hash_key').on(t.tokenHash),
    index('password_resets_user_idx').on(t.userId),
  ],
)

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Every token descended from one login shares the family (its session); reuse revokes the family. */
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    rotatedAt: timestamp('rotated_at', { withTimezone: true, precision: 3 }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({
      name: 'refresh_tokens_family_fkey',
      columns: [t.familyId],
      foreignColumns: [sessions.id],
    }).onDelete('cascade'),
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

export const companies = pgTable(
  'companies',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    /** Normalized host name (lower-case); unique per organization when set. */
    domain: text('domain'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'companies_pkey', columns: [t.organizationId, t.id] }),
    uniqueIndex('companies_org_domain_key').on(t.organizationId, t.domain),
    index('companies_org_created_idx').on(t.organizationId, t.createdAt, t.id),
    index('companies_org_name_idx').on(t.organizationId, t.name, t.id),
    index('companies_org_owner_created_idx').on(t.organizationId, t.ownerId, t.createdAt, t.id),
    index('companies_name_trgm_idx').using('gin', t.name.op('gin_trgm_ops')),
    index('companies_domain_trgm_idx').using('gin', t.domain.op('gin_trgm_ops')),
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
    companyId: uuid('company_id'),
  },
  (t) => [
    primaryKey({ name: 'contacts_pkey', columns: [t.organizationId, t.id] }),
    // No cascade: the database itself refuses to delete a company that contacts still reference.
    foreignKey({
      name: 'contacts_company_fkey',
      columns: [t.organizationId, t.companyId],
      foreignColumns: [companies.organizationId, companies.id],
    }),
    index('contacts_org_company_idx').on(t.organizationId, t.companyId),
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
    expectedCloseDate: date('expected_close_date', { mode: 'string' }),
    lostReason: text('lost_reason'),
    /** Set by the deals_before_write trigger (database clock, under the row lock); never written by the API. */
    closedAt: timestamp('closed_at', { withTimezone: true, precision: 3 }),
    /** Set by the deals_before_write trigger when the stage changes; created_at until then. */
    stageChangedAt: timestamp('stage_changed_at', { withTimezone: true, precision: 3 })
      .notNull()
      .defaultNow(),
    /** Who moved the deal into its current stage (its creator at first): the next history row's changed_by. */
    stageChangedBy: uuid('stage_changed_by').references(() => users.id, { onDelete: 'set null' }),
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
    check(
      'deals_lost_reason_check',
      sql`${t.lostReason} IS NULL OR (${t.status} = 'lost' AND char_length(${t.lostReason}) BETWEEN 1 AND 500)`,
    ),
    check('deals_closed_at_check', sql`(${t.closedAt} IS NOT NULL) = (${t.status} IN ('won', 'lost'))`),
    index('deals_org_close_date_idx').on(t.organizationId, t.expectedCloseDate, t.id),
    index('deals_org_status_closed_idx').on(t.organizationId, t.status, t.closedAt, t.createdAt),
    // Migration 0008 adds INCLUDE (created_at, closed_at), which drizzle cannot declare.
    index('deals_org_won_duration_idx')
      .on(t.organizationId, sql`duration_ms(${t.createdAt}, ${t.closedAt})`)
      .where(sql`${t.status} = 'won'`),
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

/** Per-organization stage probabilities (spec §12); a stage without a row has its default. */
export const pipelineStages = pgTable(
  'pipeline_stages',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    stage: text('stage', { enum: DEAL_STAGES }).notNull(),
    probability: smallint('probability').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'pipeline_stages_pkey', columns: [t.organizationId, t.stage] }),
    check('pipeline_stages_stage_check', inList('stage', DEAL_STAGES)),
    check('pipeline_stages_probability_check', sql`${t.probability} BETWEEN 0 AND 100`),
  ],
)

/** One row per stay of a deal in a stage, written by the deals_after_write trigger (migration 0002). */
export const dealStageHistory = pgTable(
  'deal_stage_history',
  {
    organizationId: uuid('organization_id').notNull(),
    dealId: uuid('deal_id').notNull(),
    seq: integer('seq').notNull(),
    stage: text('stage', { enum: DEAL_STAGES }).notNull(),
    enteredAt: timestamp('entered_at', { withTimezone: true, precision: 3 }).notNull(),
    exitedAt: timestamp('exited_at', { withTimezone: true, precision: 3 }),
    changedBy: uuid('changed_by').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [
    primaryKey({ name: 'deal_stage_history_pkey', columns: [t.organizationId, t.dealId, t.seq] }),
    foreignKey({
      name: 'deal_stage_history_deal_fkey',
      columns: [t.organizationId, t.dealId],
      foreignColumns: [deals.organizationId, deals.id],
    }).onDelete('cascade'),
    check('deal_stage_history_stage_check', inList('stage', DEAL_STAGES)),
    check('deal_stage_history_interval_check', sql`${t.exitedAt} IS NULL OR ${t.exitedAt} >= ${t.enteredAt}`),
    index('deal_stage_history_org_exited_idx')
      .on(t.organizationId, t.exitedAt, t.stage, t.enteredAt)
      .where(sql`${t.exitedAt} IS NOT NULL`),
    // Migration 0008 adds INCLUDE (entered_at, exited_at), which drizzle cannot declare.
    index('deal_stage_history_org_stage_duration_idx')
      .on(t.organizationId, t.stage, sql`duration_ms(${t.enteredAt}, ${t.exitedAt})`)
      .where(sql`${t.exitedAt} IS NOT NULL`),
  ],
)

/**
 * Deal aggregates kept exact by the deals_after_write trigger, in the writing transaction: one row per
 * (currency, status, stage, forecast month, shard). Analytics read these few rows instead of every deal.
 */
export const dealTotals = pgTable(
  'deal_totals',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    currency: text('currency').notNull(),
    status: text('status', { enum: DEAL_STATUSES }).notNull(),
    stage: text('stage', { enum: DEAL_STAGES }).notNull(),
    /** Forecast month (first day); 'infinity' for open deals without a close date and for lost deals. */
    month: date('month', { mode: 'string' }).notNull(),
    shard: smallint('shard').notNull(),
    dealCount: integer('deal_count').notNull().default(0),
    amount: numeric('amount', { precision: 20, scale: 2 }).notNull().default('0'),
    /** Deals per cents remainder (amount × 100 mod 100): makes the weighted sum exact for any probability. */
    centsHist: integer('cents_hist').array().notNull(),
    /** Open rows: the probability `weighted` is computed with. */
    probability: smallint('probability'),
    weighted: numeric('weighted', { precision: 20, scale: 2 }).notNull().default('0'),
  },
  (t) => [
    primaryKey({
      name: 'deal_totals_pkey',
      columns: [t.organizationId, t.currency, t.status, t.stage, t.month, t.shard],
    }),
  ],
)

/** Deals created per UTC day (sharded like deal_totals): the summary's recent count without a scan. */
export const dealCreatedDays = pgTable(
  'deal_created_days',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    shard: smallint('shard').notNull(),
    dealCount: integer('deal_count').notNull().default(0),
  },
  (t) => [primaryKey({ name: 'deal_created_days_pkey', columns: [t.organizationId, t.day, t.shard] })],
)

/**
 * Durations for velocity (migration 0008): per kind (a stage's stays, or 'won' from creation to closed_at), UTC
 * day the duration ended and whole days it lasted, the count, the sum in milliseconds and how many lasted exactly
 * those whole days, kept by triggers.
 */
export const dealDurations = pgTable(
  'deal_durations',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    endDay: date('end_day', { mode: 'string' }).notNull(),
    durationDay: integer('duration_day').notNull(),
    count: integer('count').notNull().default(0),
    totalMs: bigint('total_ms', { mode: 'number' }).notNull().default(0),
    /** How many lasted exactly `duration_day` whole days (0 ms for deals created already won). */
    atFloor: integer('at_floor').notNull().default(0),
  },
  (t) => [
    primaryKey({ name: 'deal_durations_pkey', columns: [t.organizationId, t.kind, t.endDay, t.durationDay] }),
  ],
)

export const INVITATION_STATUSES = ['pending', 'accepted', 'declined', 'revoked', 'expired'] as const
export type InvitationStatus = (typeof INVITATION_STATUSES)[number]

export const invitations = pgTable(
  'invitations',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    email: text('email').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: uuid('invited_by')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: INVITATION_STATUSES }).notNull().default('pending'),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    respondedAt: timestamp('responded_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    primaryKey({ name: 'invitations_pkey', columns: [t.organizationId, t.id] }),
    check('invitations_role_check', inList('role', ROLES)),
    check('invitations_status_check', inList('status', INVITATION_STATUSES)),
    check('invitations_email_lower_check', sql`${t.email} = lower(${t.email})`),
    // One pending invitation per organization and email, also under concurrent requests.
    uniqueIndex('invitations_org_email_pending_key')
      .on(t.organizationId, t.email)
      .where(sql`${t.status} = 'pending'`),
    // Token lookups (accept by token, register); 256 random bits never collide.
    index('invitations_token_hash_idx').on(t.tokenHash),
    index('invitations_email_pending_idx').on(t.email).where(sql`${t.status} = 'pending'`),
  ],
)

// ---- Integrations (0004): API keys, idempotency records, the event outbox, webhooks and deliveries ---------

export const API_KEY_SCOPES = ['read', 'write'] as const
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number]
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

export const apiKeys = pgTable(
  'api_keys',
  {
    organizationId: uuid('organization_id').notNull(),
    id: uuid('id').notNull(),
    userId: uuid('user_id').notNull(),
    name: text('name').notNull(),
    scope: text('scope', { enum: API_KEY_SCOPES }).notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    primaryKey({ name: 'api_keys_pkey', columns: [t.organizationId, t.id] }),
    // A key dies with its user's membership: leaving the organization revokes it in the database too.
    foreignKey({
      name: 'api_keys_member_fkey',
      columns: [t.organizationId, t.userId],
      foreignColumns: [memberships.organizationId, memberships.userId],
    }).onDelete('cascade'),
    check('api_keys_scope_check', inList('scope', API_KEY_SCOPES)),
    // Looked up by the presented key alone (the organization comes from the key), like users by email.
    uniqueIndex('api_keys_key_hash_key').on(t.keyHash),
    index('api_keys_org_user_idx').on(t.organizationId, t.userId, t.createdAt),
  ],
)

/** Scoped to the user (an API key shares its user's scope); `status` is null while the first request runs. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    status: integer('status'),
    contentType: text('content_type'),
    body: text('body'),
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }).notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys_pkey', columns: [t.userId, t.key] }),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
)

/** The outbox: one row per change, written in the change's transaction; `dispatched_at` once fanned out. */
export const events = pgTable(
  'events',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
    previous: jsonb('previous'),
    createdAt: createdAt(),
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    primaryKey({ name: 'events_pkey', columns: [t.organizationId, t.id] }),
    index('events_pending_idx').on(t.createdAt, t.id).where(sql`dispatched_at IS NULL`),
  ],
)

export const webhooks = pgTable(
  'webhooks',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    url: text('url').notNull(),
    events: text('events').array().notNull(),
    description: text('description'),
    enabled: boolean('enabled').notNull().default(true),
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true, precision: 3 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ name: 'webhooks_pkey', columns: [t.organizationId, t.id] }),
    index('webhooks_org_created_idx').on(t.organizationId, t.createdAt, t.id),
  ],
)

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    organizationId: uuid('organization_id').notNull(),
    id: uuid('id').notNull(),
    webhookId: uuid('webhook_id').notNull(),
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').notNull(),
    attempt: integer('attempt').notNull().default(0),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    responseStatus: integer('response_status'),
    error: text('error'),
    durationMs: integer('duration_ms'),
    createdAt: createdAt(),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }),
    /** Set while one instance makes an attempt; another may take the delivery over only after it passes. */
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    primaryKey({ name: 'webhook_deliveries_pkey', columns: [t.organizationId, t.id] }),
    foreignKey({
      name: 'webhook_deliveries_webhook_fkey',
      columns: [t.organizationId, t.webhookId],
      foreignColumns: [webhooks.organizationId, webhooks.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'webhook_deliveries_event_fkey',
      columns: [t.organizationId, t.eventId],
      foreignColumns: [events.organizationId, events.id],
    }).onDelete('cascade'),
    check('webhook_deliveries_status_check', inList('status', DELIVERY_STATUSES)),
    // One delivery per event and webhook: a repeated fan-out cannot send an event twice.
    uniqueIndex('webhook_deliveries_webhook_event_key').on(t.organizationId, t.webhookId, t.eventId),
    index('webhook_deliveries_webhook_created_idx').on(t.organizationId, t.webhookId, t.createdAt, t.id),
    index('webhook_deliveries_event_idx').on(t.organizationId, t.eventId),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt, t.eventId).where(sql`status = 'pending'`),
  ],
)

/**
 * Exact row counts per organization and list (migration 0005): statement triggers on contacts, companies, deals
 * and tasks add to one of 16 shards in the writing transaction; `writes` sums to the list's write generation.
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
