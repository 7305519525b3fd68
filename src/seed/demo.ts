import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

/**
 * Demo data for a newcomer: one organization with four members (one per role), contacts, deals in every
 * stage and status, tasks (open, due today, done) and comments. Everything goes through the HTTP API in-process
 * (`app.inject`), so it takes exactly the code paths a client's requests take (validation, rules, activities,
 * analytics invalidation) and stays right whatever those routes become.
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
  counts: { contacts: number; deals: number; tasks: number; comments: number }
}

const ORGANIZATION_NAME = 'Northwind Traders (demo)'

const PEOPLE = [
  { role: 'owner', name: 'Olivia Owens' },
  { role: 'admin', name: 'Arjun Mehta' },
  { role: 'manager', name: 'Mariana Costa' },
  { role: 'member', name: 'Sam Lee' },
] as const
type Role = (typeof PEOPLE)[number]['role']

const CONTACTS: { name: string; email: string; phone: string; by: Role }[] = [
  {
    name: 'Hannah Schmidt',
    email: 'hannah.schmidt@alpenglow.example',
    phone: '+49 30 901820',
    by: 'manager',
  },
  {
    name: 'Kenji Watanabe',
    email: 'k.watanabe@sakura-logistics.example',
    phone: '+81 3 5555 0101',
    by: 'member',
  },
  { name: 'Amara Okafor', email: 'amara@lagosfresh.example', phone: '+234 1 555 0199', by: 'member' },
  {
    name: 'Lucas Martin',
    email: 'lucas.martin@boulangerie.example',
    phone: '+33 1 55 55 01 23',
    by: 'manager',
  },
  { name: 'Priya Raman', email: 'priya@chennai-textiles.example', phone: '+91 44 5555 0123', by: 'admin' },
  { name: 'Diego Fernández', email: 'diego@andes-coffee.example', phone: '+57 1 555 0147', by: 'member' },
  { name: 'Emma Johansson', email: 'emma.j@nordicdesign.example', phone: '+46 8 555 012 34', by: 'owner' },
  { name: 'Noah Williams', email: 'noah@harborworks.example', phone: '+1 206 555 0172', by: 'manager' },
  { name: 'Fatima Zahra', email: 'fatima@atlas-ceramics.example', phone: '+212 522 555 010', by: 'admin' },
  { name: 'Liam O’Brien', email: 'liam@emerald-ales.example', phone: '+353 1 555 0133', by: 'member' },
]

type Status = 'new' | 'in_progress' | 'won' | 'lost'
type Stage = 'qualification' | 'proposal' | 'negotiation' | 'closed'

const DEALS: {
  title: string
  contact: number
  amount: string
  currency: string
  stage: Stage
  status: Status
}[] = [
  {
    title: 'Cold-chain pilot, 3 warehouses',
    contact: 1,
    amount: '48000.00',
    currency: 'USD',
    stage: 'negotiation',
    status: 'in_progress',
  },
  {
    title: 'Bakery POS roll-out',
    contact: 3,
    amount: '12500.00',
    currency: 'EUR',
    stage: 'closed',
    status: 'won',
  },
  {
    title: 'Annual coffee supply',
    contact: 5,
    amount: '86000.00',
    currency: 'USD',
    stage: 'proposal',
    status: 'in_progress',
  },
  {
    title: 'Showroom redesign',
    contact: 6,
    amount: '23000.00',
    currency: 'EUR',
    stage: 'closed',
    status: 'won',
  },
  {
    title: 'Fleet telematics trial',
    contact: 7,
    amount: '9900.00',
    currency: 'USD',
    stage: 'qualification',
    status: 'new',
  },
  {
    title: 'Fabric sourcing framework',
    contact: 4,
    amount: '150000.00',
    currency: 'USD',
    stage: 'closed',
    status: 'lost',
  },
  {
    title: 'Brewery ERP integration',
    contact: 9,
    amount: '31000.00',
    currency: 'EUR',
    stage: 'negotiation',
    status: 'in_progress',
  },
  {
    title: 'Fresh produce marketplace listing',
    contact: 2,
    amount: '4200.00',
    currency: 'USD',
    stage: 'proposal',
    status: 'new',
  },
  {
    title: 'Ceramics export insurance',
    contact: 8,
    amount: '17500.00',
    currency: 'EUR',
    stage: 'closed',
    status: 'won',
  },
  {
    title: 'Winter campaign analytics',
    contact: 0,
    amount: '6400.00',
    currency: 'EUR',
    stage: 'qualification',
    status: 'in_progress',
  },
  {
    title: 'Second warehouse sensors',
    contact: 1,
    amount: '22000.00',
    currency: 'USD',
    stage: 'qualification',
    status: 'new',
  },
  {
    title: 'Espresso machines lease',
    contact: 5,
    amount: '0.00',
    currency: 'USD',
    stage: 'proposal',
    status: 'lost',
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
  ]

const COMMENTS: { deal: number; by: Role; text: string }[] = [
  { deal: 0, by: 'member', text: 'They liked the pilot results; legal review starts Monday.' },
  { deal: 0, by: 'manager', text: 'Keep the discount under 8 % without asking me first.' },
  { deal: 1, by: 'manager', text: 'Signed! Invoice goes out on the 1st.' },
  { deal: 2, by: 'member', text: 'Competing offer from a local roaster, we need a sharper proposal.' },
  { deal: 5, by: 'admin', text: 'Lost on price; revisit next fiscal year.' },
  { deal: 6, by: 'owner', text: 'Their CTO is an old colleague, happy to make an intro.' },
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
  return new Date(today.getTime() + days * 86_400_000).toISOString().slice(0, 10)
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
      counts: { contacts: 0, deals: 0, tasks: 0, comments: 0 },
    }
  }

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

  const contactIds: string[] = []
  for (const contact of CONTACTS) {
    const { by, ...fields } = contact
    const created = await post('/contacts', fields, tokens[by], organizationId)
    contactIds.push(expectStatus(created, 201, `contact ${contact.name}`).id)
  }

  // Each deal is opened by its contact's owner, then moved along the pipeline as a salesperson would,
  // so the activity feed shows real stage and status changes.
  const dealIds: string[] = []
  const dealOwners: Role[] = []
  for (const deal of DEALS) {
    const by = CONTACTS[deal.contact]?.by ?? 'owner'
    const created = await post(
      '/deals',
      {
        contact_id: contactIds[deal.contact],
        title: deal.title,
        amount: deal.amount,
        currency: deal.currency,
      },
      tokens[by],
      organizationId,
    )
    const id = expectStatus(created, 201, `deal ${deal.title}`).id as string
    const stages: Stage[] = ['qualification', 'proposal', 'negotiation', 'closed']
    const path = stages.slice(1, stages.indexOf(deal.stage) + 1)
    for (const [index, stage] of path.entries()) {
      const last = index === path.length - 1
      const changes = last ? { stage, status: deal.status } : { stage, status: 'in_progress' }
      expectStatus(
        await patch(`/deals/${id}`, changes, tokens[by], organizationId),
        200,
        `move ${deal.title}`,
      )
    }
    if (path.length === 0 && deal.status !== 'new') {
      const changed = await patch(`/deals/${id}`, { status: deal.status }, tokens[by], organizationId)
      expectStatus(changed, 200, `status of ${deal.title}`)
    }
    dealIds.push(id)
    dealOwners.push(by)
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

  return {
    created: true,
    email,
    password,
    organizationId,
    organizationName: ORGANIZATION_NAME,
    members,
    counts: {
      contacts: CONTACTS.length,
      deals: DEALS.length,
      tasks: TASKS.length,
      comments: COMMENTS.length,
    },
  }
}

/** What `npm run seed` prints: how to sign in, with a ready-to-paste request. */
export function signInInstructions(result: SeedResult, baseUrl: string): string {
  const lines = [
    result.created
      ? `Seeded "${result.organizationName}": ${result.counts.contacts} contacts, ${result.counts.deals} deals, ` +
        `${result.counts.tasks} tasks, ${result.counts.comments} comments.`
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
