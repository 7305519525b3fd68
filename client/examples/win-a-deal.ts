/**
 * The typed client end to end: register (which creates an organization), add a contact, open a deal for
 * it, and win it. Run against a server: `BASE_URL=http://localhost:8000 npm run example -w client`.
 * Every call below is checked by TypeScript against the generated document types.
 */
import { randomUUID } from 'node:crypto'
import { createCrmClient, type Problem, type Schemas } from '../src/index.js'

function fail(step: string, error: Problem | undefined, status: number): never {
  throw new Error(`${step} failed with ${status}: ${error?.code ?? 'no problem body'} ${error?.detail ?? ''}`)
}

export async function winADeal(baseUrl: string): Promise<Schemas['Deal']> {
  const crm = createCrmClient({ baseUrl })

  const registered = await crm.POST('/api/v1/auth/register', {
    body: {
      email: `client-${randomUUID()}@example.com`,
      password: 'correct horse battery staple',
      name: 'Ada Lovelace',
      organization_name: 'Analytical Engines Ltd',
    },
  })
  if (!registered.data) fail('register', registered.error, registered.response.status)
  crm.useAccessToken(registered.data.access_token)
  const organizationId = registered.data.organization_id
  if (!organizationId) fail('register (no organization)', undefined, registered.response.status)
  const header = { 'x-organization-id': organizationId }

  const contact = await crm.POST('/api/v1/contacts', {
    params: { header },
    body: { name: 'Charles Babbage', email: 'charles@example.com', phone: '+44 20 7946 0000' },
  })
  if (!contact.data) fail('create contact', contact.error, contact.response.status)

  const deal = await crm.POST('/api/v1/deals', {
    params: { header },
    body: {
      contact_id: contact.data.id,
      title: 'Difference Engine No. 2',
      amount: '12500.00',
      currency: 'GBP',
    },
  })
  if (!deal.data) fail('create deal', deal.error, deal.response.status)

  const won = await crm.PATCH('/api/v1/deals/{id}', {
    params: { header, path: { id: deal.data.id } },
    body: { status: 'won', stage: 'closed' },
  })
  if (!won.data) fail('win the deal', won.error, won.response.status)
  return won.data
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const deal = await winADeal(process.env.BASE_URL ?? 'http://localhost:8000')
  console.log(`won "${deal.title}" for ${deal.amount} ${deal.currency} (deal ${deal.id})`)
}
