import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { DealStage, DealStatus } from '../db/schema.js'
import { addDays, todayUtc } from '../lib/dates.js'
import { backdate, type DaysAgo, type DealTimeline, planDeal, type RecordTime } from './history.js'

/**
 * Demo data for a newcomer: one organization with four members (one per role), companies with their contacts,
 * deals in every stage and status (mostly in the organization's default currency, some in EUR and GBP, with
 * expected close dates in the past and the coming months, lost reasons, and four months of pipeline history),
 * tasks (open, due today, done) and comments. Everything goes through the HTTP API in-process (`app.inject`),
 * so it takes exactly the code paths a client's requests take (validation, rules, activities, stage history,
 * aggregates, analytics invalidation) and stays right whatever those routes become. Only the times are then
 * moved into the past (history.ts), since the API writes everything at the time of the run.
 *
 * Re-runnable: when the demo owner can already log in, nothing is written and the sign-in is printed again.
 */

export const DEMO_PASSWORD = 'demo-password-2026'
export const DEMO_DOMAIN = 'demo.mini-crm.test'
const API = '/api/v1'

export interface SeedOptions {
  /** The owner's email; the other members get `<role>.<local part>@<domain>`. */
  email?: string
  password?: string
  /** Days are counted from this date (tests pin it). */
  today?: Date
}

export interface SeedResult {
  created: boolean
  email: string
  password: string
  organizationId: string
  organizationName: string
  members: { email: string; role: string }[]
  counts: { companies: number; contacts: number; deals: number; tasks: number; comments: number }
}

const ORGANIZATION_NAME = 'Northwind Traders (demo)'

const PEOPLE = [
  { role: 'owner', name: 'Olivia Owens' },
  { role: 'admin', name: 'Arjun Mehta' },
  { role: 'manager', name: 'Mariana Costa' },
  { role: 'member', name: 'Sam Lee' },
] as const
type Role = (typeof PEOPLE)[number]['role']

const COMPANIES: { name: string; domain: string; by: Role }[] = [
  { name: 'Alpenglow Outfitters', domain: 'alpenglow.example', by: 'manager' },
  { name: 'Sakura Logistics', domain: 'sakura-logistics.example', by: 'member' },
  { name: 'Lagos Fresh Market', domain: 'lagosfresh.example', by: 'member' },
  { name: 'Boulangerie Martin', domain: 'boulangerie.example', by: 'manager' },
  { name: 'Chennai Textiles', domain: 'chennai-textiles.example', by: 'admin' },
  { name: 'Andes Coffee Growers', domain: 'andes-coffee.example', by: 'member' },
  { name: 'Nordic Design Studio', domain: 'nordicdesign.example', by: 'owner' },
  { name: 'Harbor Works', domain: 'harborworks.example', by: 'manager' },
  { name: 'Atlas Ceramics', domain: 'atlas-ceramics.example', by: 'admin' },
  { name: 'Emerald Ales', domain: 'emerald-ales.example', by: 'member' },
]

/** `company`: index in COMPANIES; null for a contact on their own. */
const CONTACTS: { name: string; email: string; phone: string; by: Role; company: number | null }[] = [
  {
    name: 'Hannah Schmidt',
    email: 'hannah.schmidt@alpenglow.example',
    phone: '+49 30 901820',
    by: 'manager',
    company: 0,
  },
  {
    name: 'Kenji Watanabe',
    email: 'k.watanabe@sakura-logistics.example',
    phone: '+81 3 5555 0101',
    by: 'member',
    company: 1,
  },
  {
    name: 'Amara Okafor',
    email: 'amara@lagosfresh.example',
    phone: '+234 1 555 0199',
    by: 'member',
    company: 2,
  },
  {
    name: 'Lucas Martin',
    email: 'lucas.martin@boulangerie.example',
    phone: '+33 1 55 55 01 23',
    by: 'manager',
    company: 3,
  },
  {
    name: 'Priya Raman',
    email: 'priya@chennai-textiles.example',
    phone: '+91 44 5555 0123',
    by: 'admin',
    company: 4,
  },
  {
    name: 'Diego Fernández',
    email: 'diego@andes-coffee.example',
    phone: '+57 1 555 0147',
    by: 'member',
    company: 5,
  },
  {
    name: 'Emma Johansson',
    email: 'emma.j@nordicdesign.example',
    phone: '+46 8 555 012 34',
    by: 'owner',
    company: 6,
  },
  {
    name: 'Noah Williams',
    email: 'noah@harborworks.example',
    phone: '+1 206 555 0172',
    by: 'manager',
    company: 7,
  },
  {
    name: 'Fatima Zahra',
    email: 'fatima@atlas-ceramics.example',
    phone: '+212 522 555 010',
    by: 'admin',
    company: 8,
  },
  {
    name: 'Liam O’Brien',
    email: 'liam@emerald-ales.example',
    phone: '+353 1 555 0133',
    by: 'member',
    company: 9,
  },
  {
    name: 'Yuki Tanaka',
    email: 'y.tanaka@sakura-logistics.example',
    phone: '+81 3 5555 0144',
    by: 'member',
    company: 1,
  },
  {
    name: 'Grace Miller',
    email: 'grace.miller@harborworks.example',
    phone: '+1 206 555 0190',
    by: 'manager',
    company: 7,
  },
  {
    name: 'Tom Becker',
    email: 'tom.becker@mailbox.example',
    phone: '+49 89 555 0177',
    by: 'owner',
    company: null,
  },
]

type Status = DealStatus
type Stage = DealStage

/** One PATCH of the deal, `at` days ago: what a salesperson changed that day. */
interface Step {
  at: DaysAgo
  stage?: Stage
  status?: Status
  lost_reason?: string
}

/**
 * Each deal is created `opened` days ago (in qualification, status new) and then moved by its `steps`, oldest
 * first. `currency` left out: the organization's default (USD). `close`: expected close date in days from
 * today (negative: in the past), null for none.
 */
const DEALS: {
  title: string
  contact: number
  amount: string
  currency?: 'EUR' | 'GBP'
  opened: DaysAgo
  steps: Step[]
  close: number | null
}[] = [
  {
    title: 'Cold-chain pilot, 3 warehouses',
    contact: 1,
    amount: '48000.00',
    opened: 62.3,
    steps: [
      { at: 47.8, stage: 'proposal', status: 'in_progress' },
      { at: 19.6, stage: 'negotiation' },
    ],
    close: 12,
  },
  {
    title: 'Bakery POS roll-out',
    contact: 3,
    amount: '12500.00',
    currency: 'EUR',
    opened: 95.4,
    steps: [
      { at: 81.2, stage: 'proposal', status: 'in_progress' },
      { at: 61.7, stage: 'negotiation' },
      { at: 52.3, stage: 'closed', status: 'won' },
    ],
    close: -50,
  },
  {
    title: 'Annual coffee supply',
    contact: 5,
    amount: '86000.00',
    opened: 40.5,
    steps: [{ at: 26.1, stage: 'proposal', status: 'in_progress' }],
    close: 40,
  },
  {
    title: 'Showroom redesign',
    contact: 6,
    amount: '23000.00',
    currency: 'EUR',
    opened: 70.2,
    steps: [
      { at: 58.4, stage: 'proposal', status: 'in_progress' },
      { at: 37.1, stage: 'negotiation' },
      { at: 29.8, stage: 'closed', status: 'won' },
    ],
    close: -27,
  },
  { title: 'Fleet telematics trial', contact: 7, amount: '9900.00', opened: 3.4, steps: [], close: 75 },
  {
    title: 'Fabric sourcing framework',
    contact: 4,
    amount: '150000.00',
    opened: 110.6,
    steps: [
      { at: 96.3, stage: 'proposal', status: 'in_progress' },
      { at: 71.5, stage: 'negotiation' },
      {
        at: 64.2,
        stage: 'closed',
        status: 'lost',
        lost_reason: 'Lost on price: a local mill undercut our offer by 12 %',
      },
    ],
    close: -60,
  },
  {
    title: 'Brewery ERP integration',
    contact: 9,
    amount: '31000.00',
    currency: 'EUR',
    opened: 50.3,
    steps: [
      { at: 35.7, stage: 'proposal', status: 'in_progress' },
      { at: 10.9, stage: 'negotiation' },
    ],
    close: 20,
  },
  {
    title: 'Fresh produce marketplace listing',
    contact: 2,
    amount: '4200.00',
    opened: 21.2,
    steps: [{ at: 9.4, stage: 'proposal' }],
    close: null,
  },
  {
    title: 'Ceramics export insurance',
    contact: 8,
    amount: '17500.00',
    currency: 'EUR',
    opened: 45.7,
    steps: [
      { at: 33.2, stage: 'proposal', status: 'in_progress' },
      { at: 18.8, stage: 'negotiation' },
      { at: 6.3, stage: 'closed', status: 'won' },
    ],
    close: -4,
  },
  {
    title: 'Winter campaign analytics',
    contact: 0,
    amount: '6400.00',
    currency: 'EUR',
    opened: 16.6,
    steps: [{ at: 12.1, status: 'in_progress' }],
    close: 45,
  },
  { title: 'Second warehouse sensors', contact: 1, amount: '22000.00', opened: 1.2, steps: [], close: null },
  {
    title: 'Espresso machines lease',
    contact: 5,
    amount: '0.00',
    opened: 33.4,
    steps: [
      { at: 25.2, stage: 'proposal', status: 'in_progress' },
      { at: 18.1, status: 'lost', lost_reason: 'No budget this year; revisit in the spring' },
    ],
    close: -10,
  },
  {
    title: 'Regional distribution contract',
    contact: 10,
    amount: '64000.00',
    opened: 88.5,
    steps: [
      { at: 74.3, stage: 'proposal', status: 'in_progress' },
      { at: 52.6, stage: 'negotiation' },
    ],
    close: -40,
  },
  {
    title: 'Packaging redesign',
    contact: 6,
    amount: '14800.00',
    currency: 'GBP',
    opened: 30.4,
    steps: [
      { at: 22.2, stage: 'proposal', status: 'in_progress' },
      { at: 8.1, stage: 'negotiation' },
    ],
    close: 5,
  },
  {
    title: 'Taproom POS upgrade',
    contact: 9,
    amount: '8900.00',
    opened: 57.3,
    steps: [
      { at: 44.6, stage: 'proposal', status: 'in_progress' },
      { at: 38.2, stage: 'closed', status: 'won' },
    ],
    close: -36,
  },
  {
    // Won just now: the current month of the forecast has a won deal whatever the date.
    title: 'Harbor crane telemetry',
    contact: 11,
    amount: '120000.00',
    opened: 100.2,
    steps: [
      { at: 85.5, stage: 'proposal', status: 'in_progress' },
      { at: 60.4, stage: 'negotiation' },
      { at: 0, stage: 'closed', status: 'won' },
    ],
    close: 0,
  },
  {
    title: 'Dock scheduling software',
    contact: 7,
    amount: '27500.00',
    opened: 80.1,
    steps: [
      { at: 66.4, stage: 'proposal', status: 'in_progress' },
      {
        at: 58.3,
        status: 'lost',
        lost_reason: 'Chose a competitor that already integrates with the port authority',
      },
    ],
    close: -50,
  },
  {
    title: 'Cotton blend samples',
    contact: 4,
    amount: '3200.00',
    opened: 26.7,
    steps: [{ at: 20.3, status: 'in_progress' }],
    close: -3,
  },
  {
    title: 'Ceramic tile catalogue shoot',
    contact: 8,
    amount: '7400.00',
    currency: 'GBP',
    opened: 12.2,
    steps: [{ at: 4.3, stage: 'proposal', status: 'in_progress' }],
    close: 30,
  },
  {
    // Won more than 90 days ago: outside the velocity's default window.
    title: 'Consulting retainer',
    contact: 12,
    amount: '18000.00',
    opened: 130.4,
    steps: [
      { at: 118.2, stage: 'proposal', status: 'in_progress' },
      { at: 101.5, stage: 'negotiation' },
      { at: 94.3, stage: 'closed', status: 'won' },
    ],
    close: -90,
  },
  { title: 'Cold storage expansion', contact: 10, amount: '91000.00', opened: 7.1, steps: [], close: 120 },
  {
    title: 'Fresh juice line launch',
    contact: 2,
    amount: '12800.00',
    opened: 68.3,
    steps: [
      { at: 55.1, stage: 'proposal', status: 'in_progress' },
      { at: 41.2, stage: 'negotiation' },
      {
        at: 34.4,
        stage: 'closed',
        status: 'lost',
        lost_reason: 'Project postponed after a change of management',
      },
    ],
    close: -30,
  },
  {
    title: 'Nordic showroom lighting',
    contact: 6,
    amount: '9600.00',
    currency: 'GBP',
    opened: 36.5,
    steps: [
      { at: 28.3, stage: 'proposal', status: 'in_progress' },
      { at: 15.2, stage: 'negotiation' },
      { at: 2.1, stage: 'closed', status: 'won' },
    ],
    close: 1,
  },
]

const TASKS: { deal: number; title: string; description: string; dueInDays: number | null; done: boolean }[] =
  [
    {
      deal: 0,
      title: 'Send revised pricing',
      description: 'Volume discount for the 3rd warehouse',
      dueInDays: 2,
      done: false,
    },
    {
      deal: 0,
      title: 'Security questionnaire',
      description: 'Their IT needs it before signing',
      dueInDays: 0,
      done: false,
    },
    {
      deal: 2,
      title: 'Book tasting session',
      description: 'Bring the two single-origin samples',
      dueInDays: 7,
      done: false,
    },
    {
      deal: 4,
      title: 'Discovery call',
      description: 'Who owns the fleet budget?',
      dueInDays: 1,
      done: false,
    },
    {
      deal: 6,
      title: 'Draft integration plan',
      description: 'Orders and invoices first, stock later',
      dueInDays: 5,
      done: false,
    },
    {
      deal: 1,
      title: 'Kick-off meeting',
      description: 'Schedule training for the staff',
      dueInDays: 0,
      done: true,
    },
    { deal: 7, title: 'Collect product photos', description: '', dueInDays: null, done: false },
    {
      deal: 9,
      title: 'Share last season’s numbers',
      description: 'CSV export is fine',
      dueInDays: 3,
      done: true,
    },
    {
      deal: 12,
      title: 'Chase the signed contract',
      description: 'The expected close date has passed',
      dueInDays: 0,
      done: false,
    },
    {
      deal: 15,
      title: 'Hand over to onboarding',
      description: 'Introduce Grace to the support team',
      dueInDays: 1,
      done: false,
    },
    {
      deal: 20,
      title: 'Site visit',
      description: 'Measure the loading bays',
      dueInDays: 4,
      done: false,
    },
  ]

const COMMENTS: { deal: number; by: Role; text: string }[] = [
  { deal: 0, by: 'member', text: 'They liked the pilot results; legal review starts Monday.' },
  { deal: 0, by: 'manager', text: 'Keep the discount under 8 % without asking me first.' },
  { deal: 1, by: 'manager', text: 'Signed! Invoice goes out on the 1st.' },
  { deal: 2, by: 'member', text: 'Competing offer from a local roaster, we need a sharper proposal.' },
  { deal: 5, by: 'admin', text: 'Lost on price; revisit next fiscal year.' },
  { deal: 6, by: 'owner', text: 'Their CTO is an old colleague, happy to make an intro.' },
  { deal: 12, by: 'member', text: 'Procurement is slow; they promised an answer by Friday.' },
  { deal: 15, by: 'manager', text: 'PO received this morning. Great work, everyone!' },
]

class SeedError extends Error {}

function expectStatus(response: LightMyRequestResponse, status: number, step: string) {
  if (response.statusCode !== status) {
    throw new SeedError(`${step}: expected ${status}, got ${response.statusCode} ${response.body}`)
  }
  return response.json()
}

function emailFor(ownerEmail: string, role: Role): string {
  if (role === 'owner') return ownerEmail
  const [local, domain] = ownerEmail.split('@')
  return `${role}.${local}@${domain}`
}

function isoDate(today: Date, days: number): string {
  return addDays(todayUtc(today), days)
}

/** Up to an hour further back per deal, so times of day differ between deals; a step at 0 stays now. */
function jittered(at: DaysAgo, deal: number): DaysAgo {
  return at > 0 ? at + ((deal * 1277) % 3600) / 86_400 : at
}

export async function seedDemo(app: FastifyInstance, options: SeedOptions = {}): Promise<SeedResult> {
  const email = (options.email ?? `owner@${DEMO_DOMAIN}`).trim().toLowerCase()
  const password = options.password ?? DEMO_PASSWORD
  const today = options.today ?? new Date()
  const members = PEOPLE.map(({ role }) => ({ email: emailFor(email, role), role }))
  const post = (url: string, payload: object, token?: string, organizationId?: string) =>
    app.inject({
      method: 'POST',
      url: `${API}${url}`,
      payload,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(organizationId ? { 'x-organization-id': organizationId } : {}),
      },
    })
  const patch = (url: string, payload: object, token: string, organizationId: string) =>
    app.inject({
      method: 'PATCH',
      url: `${API}${url}`,
      payload,
      headers: { authorization: `Bearer ${token}`, 'x-organization-id': organizationId },
    })

  // Already seeded: the owner logs in; report the organization and write nothing.
  const login = await post('/auth/login', { email, password })
  if (login.statusCode === 200) {
    const { access_token: token } = login.json()
    const mine = await app.inject({
      method: 'GET',
      url: `${API}/organizations/me`,
      headers: { authorization: `Bearer ${token}` },
    })
    const organizations = expectStatus(mine, 200, 'list organizations') as { id: string; name: string }[]
    const organization = organizations.find((entry) => entry.name === ORGANIZATION_NAME) ?? organizations[0]
    if (!organization) throw new SeedError(`${email} exists but belongs to no organization`)
    return {
      created: false,
      email,
      password,
      organizationId: organization.id,
      organizationName: organization.name,
      members,
      counts: { companies: 0, contacts: 0, deals: 0, tasks: 0, comments: 0 },
    }
  }

  // A story that goes back in time fails here, before anything is written.
  for (const deal of DEALS) planDeal({ id: deal.title, opened: deal.opened, steps: deal.steps })

  const tokens = {} as Record<Role, string>
  let organizationId = ''
  // The owner registers with the organization; everyone else joins it through an invitation, as a team does.
  for (const person of PEOPLE) {
    let invitationToken: string | undefined
    if (person.role !== 'owner') {
      const invited = await post(
        `/organizations/${organizationId}/invitations`,
        { email: emailFor(email, person.role), role: person.role },
        tokens.owner,
      )
      invitationToken = expectStatus(invited, 201, `invite ${person.role}`).token
    }
    const registered = await post('/auth/register', {
      email: emailFor(email, person.role),
      password,
      name: person.name,
      ...(invitationToken ? { invitation_token: invitationToken } : { organization_name: ORGANIZATION_NAME }),
    })
    if (registered.statusCode === 409) {
      throw new SeedError(
        `${emailFor(email, person.role)} is already registered with another password: pass --email or --password`,
      )
    }
    const body = expectStatus(registered, 201, `register ${person.role}`)
    tokens[person.role] = body.access_token
    if (person.role === 'owner') organizationId = body.organization_id
  }

  const companyIds: string[] = []
  for (const company of COMPANIES) {
    const { by, ...fields } = company
    const created = await post('/companies', fields, tokens[by], organizationId)
    companyIds.push(expectStatus(created, 201, `company ${company.name}`).id)
  }

  const contactIds: string[] = []
  for (const contact of CONTACTS) {
    const { by, company, ...fields } = contact
    const created = await post(
      '/contacts',
      { ...fields, company_id: company === null ? null : companyIds[company] },
      tokens[by],
      organizationId,
    )
    contactIds.push(expectStatus(created, 201, `contact ${contact.name}`).id)
  }

  // Each deal is opened by its contact's owner, then moved along the pipeline step by step as a salesperson
  // would, so the activity feed and the stage history show real stage and status changes.
  const dealIds: string[] = []
  const dealOwners: Role[] = []
  const timelines: DealTimeline[] = []
  for (const deal of DEALS) {
    const by = CONTACTS[deal.contact]?.by ?? 'owner'
    const created = await post(
      '/deals',
      {
        contact_id: contactIds[deal.contact],
        title: deal.title,
        amount: deal.amount,
        ...(deal.currency ? { currency: deal.currency } : {}),
        ...(deal.close === null ? {} : { expected_close_date: isoDate(today, deal.close) }),
      },
      tokens[by],
      organizationId,
    )
    const id = expectStatus(created, 201, `deal ${deal.title}`).id as string
    for (const { at: _at, ...changes } of deal.steps) {
      expectStatus(
        await patch(`/deals/${id}`, changes, tokens[by], organizationId),
        200,
        `move ${deal.title}`,
      )
    }
    dealIds.push(id)
    dealOwners.push(by)
    const index = timelines.length
    timelines.push({
      id,
      opened: jittered(deal.opened, index),
      steps: deal.steps.map((step) => ({ ...step, at: jittered(step.at, index) })),
    })
  }

  for (const task of TASKS) {
    const by = dealOwners[task.deal] ?? 'owner'
    const created = await post(
      '/tasks',
      {
        deal_id: dealIds[task.deal],
        title: task.title,
        ...(task.description ? { description: task.description } : {}),
        ...(task.dueInDays === null ? {} : { due_date: isoDate(today, task.dueInDays) }),
      },
      tokens[by],
      organizationId,
    )
    const id = expectStatus(created, 201, `task ${task.title}`).id
    if (task.done) {
      expectStatus(
        await patch(`/tasks/${id}`, { is_done: true }, tokens[by], organizationId),
        200,
        'task done',
      )
    }
  }

  for (const comment of COMMENTS) {
    const created = await post(
      `/deals/${dealIds[comment.deal]}/activities`,
      { type: 'comment', payload: { text: comment.text } },
      tokens[comment.by],
      organizationId,
    )
    expectStatus(created, 201, 'comment')
  }

  // The story happened over the last months: contacts shortly before their first deal, companies before them.
  const contactTimes: RecordTime[] = CONTACTS.map((_, index) => ({
    id: contactIds[index] as string,
    at: 2 + Math.max(10, ...DEALS.filter((deal) => deal.contact === index).map((deal) => deal.opened)),
  }))
  const companyTimes: RecordTime[] = COMPANIES.map((_, index) => ({
    id: companyIds[index] as string,
    at:
      1 +
      Math.max(
        ...CONTACTS.flatMap((contact, contactIndex) =>
          contact.company === index ? [contactTimes[contactIndex]?.at ?? 0] : [],
        ),
      ),
  }))
  await backdate(app.db.db, organizationId, {
    companies: companyTimes,
    contacts: contactTimes,
    deals: timelines,
  })

  return {
    created: true,
    email,
    password,
    organizationId,
    organizationName: ORGANIZATION_NAME,
    members,
    counts: {
      companies: COMPANIES.length,
      contacts: CONTACTS.length,
      deals: DEALS.length,
      tasks: TASKS.length,
      comments: COMMENTS.length,
    },
  }
}

/** How far back the demo's story goes (the oldest deal). */
const HISTORY_DAYS = Math.ceil(Math.max(...DEALS.map((deal) => deal.opened)))

/** What `npm run seed` prints: how to sign in, with a ready-to-paste request. */
export function signInInstructions(result: SeedResult, baseUrl: string): string {
  const lines = [
    result.created
      ? `Seeded "${result.organizationName}": ${result.counts.companies} companies, ` +
        `${result.counts.contacts} contacts, ${result.counts.deals} deals with ${HISTORY_DAYS} days of ` +
        `pipeline history, ${result.counts.tasks} tasks, ${result.counts.comments} comments.`
      : `"${result.organizationName}" is already seeded; nothing written.`,
    '',
    `Sign in (password for every demo user: ${result.password}):`,
    ...result.members.map((member) => `  ${member.role.padEnd(8)} ${member.email}`),
    '',
    `  curl -s ${baseUrl}/api/v1/auth/login -H 'content-type: application/json' \\`,
    `    -d '{"email":"${result.email}","password":"${result.password}"}'`,
    '',
    `Then send Authorization: Bearer <access_token> and X-Organization-Id: ${result.organizationId}`,
    `(or try it in the docs: ${baseUrl}/docs).`,
  ]
  return lines.join('\n')
}
