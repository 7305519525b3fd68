/**
 * The console end to end, in Chromium against the real service (PGlite, or PostgreSQL with DATABASE_URL):
 * register → invite a colleague → company, contact, deal → drag across the board (and a manager's refused
 * rollback) → a task added and completed → won → the dashboard shows it; a CSV import with a bad row; switching
 * organization; the demo data of `npm run seed`. Every page is checked with axe-core and photographed.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { seedDemo } from '../../src/seed/demo.js'
import { uniqueEmail } from '../../test/helpers.js'
import {
  assertFitsWidth,
  assertNoPageErrors,
  dragCard,
  type Harness,
  startHarness,
  visit,
} from './harness.js'

const PASSWORD = 'correct horse battery 2026'
const owner = { name: 'Olivia Owner', email: uniqueEmail('e2e-owner'), organization: 'Northwind E2E' }
const manager = { name: 'Max Manager', email: uniqueEmail('e2e-manager') }
const DEAL = 'Cold-chain pilot'

let h: Harness
let ownerPage: Page
let managerPage: Page
let invitationLink = ''

const column = (page: Page, stage: string) => page.locator(`section[data-stage="${stage}"]`)
const cardIn = (page: Page, stage: string, title: string) =>
  column(page, stage).locator('.deal-card', { hasText: title })

describe('the console in a real browser', { timeout: 240_000 }, () => {
  before(async () => {
    h = await startHarness()
    ownerPage = (await h.context()).page
    managerPage = (await h.context()).page
  })
  after(() => h?.close())

  it('registers an owner with a new organization and lands on the board', async () => {
    const page = ownerPage
    await page.goto('/')
    await page.waitForURL(/\/login/)
    await visit(page, 'login')
    await page.getByRole('link', { name: 'Create an account' }).click()
    await page.getByLabel('Your name').fill(owner.name)
    await page.getByLabel('Email').fill(owner.email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByLabel('Organization name').fill(owner.organization)
    await visit(page, 'register')
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByRole('heading', { name: 'Pipeline' }).waitFor()
    // A reload keeps the session (the httpOnly cookie), and no token is in web storage.
    await page.reload()
    await page.getByRole('heading', { name: 'Pipeline' }).waitFor()
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))
    assert.doesNotMatch(stored, /ey[A-Za-z0-9_-]{10,}\./, 'no JWT in web storage')
  })

  it('invites a colleague as a manager, who registers through the link and joins', async () => {
    await ownerPage.goto('/settings/invitations')
    await ownerPage.getByLabel('Email').fill(manager.email)
    await ownerPage.getByLabel('Role').selectOption('manager')
    await ownerPage.getByRole('button', { name: 'Invite' }).click()
    const link = ownerPage.getByLabel('Invitation link')
    await link.waitFor()
    invitationLink = await link.inputValue()
    assert.match(invitationLink, /\/invite\?token=/)
    await visit(ownerPage, 'settings-invitations')

    await managerPage.goto(invitationLink)
    await visit(managerPage, 'invitation')
    await managerPage.getByRole('link', { name: 'Create an account' }).click()
    await managerPage.getByLabel('Your name').fill(manager.name)
    await managerPage.getByLabel('Email').fill(manager.email)
    await managerPage.getByLabel('Password').fill(PASSWORD)
    await managerPage.getByRole('button', { name: 'Create account' }).click()
    await managerPage.getByRole('heading', { name: 'Pipeline' }).waitFor()
    const chosen = await managerPage.locator('#organization-switcher option:checked').innerText()
    assert.equal(chosen, `${owner.organization} (manager)`)
  })

  it('creates a company, a contact and a deal', async () => {
    const page = ownerPage
    await page.goto('/companies')
    await page.getByRole('button', { name: 'New company' }).click()
    await page.getByLabel('Name', { exact: true }).fill('Polar Foods')
    await page.getByLabel('Domain').fill('polar-foods.example')
    await page.getByRole('button', { name: 'Create company' }).click()
    await page.getByRole('link', { name: 'Polar Foods' }).waitFor()
    await visit(page, 'companies')

    await page.goto('/contacts')
    await page.getByRole('button', { name: 'New contact' }).click()
    await page.getByLabel('Name', { exact: true }).fill('Kenji Watanabe')
    await page.getByLabel('Email', { exact: true }).fill('kenji@polar-foods.example')
    await page.getByLabel('Company').selectOption({ label: 'Polar Foods' })
    await page.getByRole('button', { name: 'Create contact' }).click()
    await page.getByRole('link', { name: 'Kenji Watanabe' }).waitFor()
    await visit(page, 'contacts')

    await page.goto('/deals')
    await page.getByRole('button', { name: 'New deal' }).click()
    const dialog = page.getByRole('dialog', { name: 'New deal' })
    await dialog.getByLabel('Find contact').fill('Kenji')
    await dialog
      .getByLabel('Contact', { exact: true })
      .selectOption({ label: 'Kenji Watanabe (kenji@polar-foods.example)' })
    await dialog.getByLabel('Title').fill(DEAL)
    await dialog.getByLabel('Amount').fill('48000')
    await visit(page, 'deal-new')
    await dialog.getByRole('button', { name: 'Create deal' }).click()
    await page.getByRole('heading', { name: DEAL }).waitFor()
    await visit(page, 'deal')
    await page.goto('/deals')
    await page.getByRole('link', { name: DEAL }).waitFor()
    await visit(page, 'deals')
  })

  it('moves the deal across the board by keyboard and by drag and drop; the column totals follow', async () => {
    const page = ownerPage
    await page.goto('/')
    await cardIn(page, 'qualification', DEAL).waitFor()
    await visit(page, 'board')
    // By keyboard: the card's Move button, Space to pick up, an arrow to the next column, Space to drop.
    const byKeyboard = page.waitForResponse(
      (r) => r.url().includes('/api/v1/deals/') && r.request().method() === 'PATCH',
      { timeout: 30_000 },
    )
    // Each step waits for what a screen reader hears (the sensor listens for arrows once the card is picked up).
    const announced = async (text: string) => {
      try {
        await page.locator('[aria-live]', { hasText: text }).first().waitFor({ timeout: 20_000 })
      } catch (error) {
        const live = await page.locator('[aria-live]').allInnerTexts()
        const focused = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200))
        throw new Error(`no announcement "${text}": live regions ${JSON.stringify(live)}, focus ${focused}`, {
          cause: error,
        })
      }
    }
    await page.getByRole('button', { name: `Move ${DEAL}` }).focus()
    await page.keyboard.press('Space')
    await announced('Over Qualification.') // "Picked up …", then where it is
    // dnd-kit listens for the arrows from the task after the pick-up (a setTimeout): on a loaded machine a key
    // pressed as soon as the pick-up is announced can come first and is not seen. A person is slower; the test
    // presses again only while the card is still announced over its own column.
    for (let attempt = 0; attempt < 5; attempt++) {
      await page.keyboard.press('ArrowRight')
      const moved = await page
        .locator('[aria-live]', { hasText: 'Over Proposal.' })
        .first()
        .waitFor({ timeout: 3_000 })
        .then(() => true)
        .catch(() => false)
      if (moved) break
      const still = await page.locator('[aria-live]', { hasText: 'Over Qualification.' }).count()
      assert.equal(still, 1, 'the card is announced over its own column or over Proposal')
    }
    await announced('Over Proposal.')
    await page.keyboard.press('Space')
    assert.equal((await byKeyboard).status(), 200)
    await cardIn(page, 'proposal', DEAL).waitFor()
    // By mouse, on to negotiation.
    const patched = page.waitForResponse(
      (r) => r.url().includes('/api/v1/deals/') && r.request().method() === 'PATCH',
    )
    await dragCard(page, DEAL, 'negotiation')
    assert.equal((await patched).status(), 200)
    await cardIn(page, 'negotiation', DEAL).waitFor()
    assert.equal(await cardIn(page, 'qualification', DEAL).count(), 0)
    await page.getByTestId('totals-negotiation').filter({ hasText: '1 deals' }).waitFor()
    await page.getByTestId('totals-qualification').filter({ hasText: '0 deals' }).waitFor()
  })

  it("refuses a manager's rollback: the reason is shown and the card goes back", async () => {
    const page = managerPage
    await page.goto('/')
    await cardIn(page, 'negotiation', DEAL).waitFor()
    const refused = page.waitForResponse(
      (r) => r.url().includes('/api/v1/deals/') && r.request().method() === 'PATCH',
    )
    await dragCard(page, DEAL, 'proposal')
    assert.equal((await refused).status(), 403)
    await page.getByRole('alert').filter({ hasText: DEAL }).waitFor()
    await cardIn(page, 'negotiation', DEAL).waitFor()
    assert.equal(await cardIn(page, 'proposal', DEAL).count(), 0)
    assertNoPageErrors(page)
  })

  it('adds a task to the deal and completes it; the feed shows both', async () => {
    const page = ownerPage
    await page.goto('/')
    await page.getByRole('link', { name: DEAL }).click()
    await page.getByRole('heading', { name: DEAL }).waitFor()
    await page.getByLabel('Task', { exact: true }).fill('Send the pilot contract')
    await page.getByRole('button', { name: 'Add task' }).click()
    await page.getByRole('button', { name: 'Complete Send the pilot contract' }).click()
    await page.getByText('Task completed: Send the pilot contract').waitFor()
    await page.getByText('Task added: Send the pilot contract').waitFor()
    await page.getByLabel('Comment').fill('<b>Budget</b> approved')
    await page.getByRole('button', { name: 'Add comment' }).click()
    // User text is text: the markup shows as typed, no element is made from it.
    await page.getByText('<b>Budget</b> approved').waitFor()
    assert.equal(await page.locator('.feed b').count(), 0)
  })

  it('marks the deal won, and the dashboard counts it', async () => {
    const page = ownerPage
    await page.getByRole('button', { name: 'Mark won' }).click()
    await page.locator('.badge.won').first().waitFor()
    await page.getByText('Stage: Negotiation → Closed').waitFor()
    await visit(page, 'deal-won')
    await page.goto('/dashboard')
    const won = page.locator('.kpi', { hasText: 'Won' }).first()
    await won.filter({ hasText: '1 deals' }).waitFor()
    assert.match(await won.innerText(), /48,000\.00/)
    await visit(page, 'dashboard')
  })

  it('imports contacts from a CSV with a bad row: the dry run reports it, the import skips it', async () => {
    const page = ownerPage
    await page.goto('/import/contacts')
    const csv =
      'name,email\nAda Import,ada@import.example\nBad Row,not-an-email\nBob Import,bob@import.example\n'
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
    await page.getByRole('button', { name: 'Check file' }).click()
    await page.getByText('Row 3').waitFor()
    await visit(page, 'import-report')
    await page.getByRole('button', { name: 'Import', exact: true }).click()
    await page.getByText(/2 created/i).waitFor()
    await page.goto('/contacts')
    await page.getByRole('link', { name: 'Ada Import' }).waitFor()
    assert.equal(await page.getByRole('link', { name: 'Bad Row' }).count(), 0)
  })

  it('switches organization: another organization shows its own board', async () => {
    const page = ownerPage
    await page.goto('/organizations/new')
    await page.getByLabel('Organization name').fill('Second Shop')
    await page.getByRole('button', { name: 'Create organization' }).click()
    await page.getByRole('heading', { name: 'Pipeline' }).waitFor()
    assert.equal(
      await page.locator('#organization-switcher option:checked').innerText(),
      'Second Shop (owner)',
    )
    assert.equal(await page.locator('.deal-card').count(), 0)
    await page
      .getByLabel('Organization', { exact: true })
      .selectOption({ label: `${owner.organization} (owner)` })
    await cardIn(page, 'closed', DEAL).or(page.getByTestId('totals-closed')).first().waitFor()
    await page.goto('/deals')
    await page.getByRole('link', { name: DEAL }).waitFor()
  })

  it('visits every other page: accessible, photographed, no errors', async () => {
    const page = ownerPage
    for (const [path, name] of [
      ['/tasks', 'tasks'],
      ['/settings', 'settings-organization'],
      ['/settings/members', 'settings-members'],
      ['/settings/api-keys', 'settings-api-keys'],
      ['/settings/webhooks', 'settings-webhooks'],
    ] as const) {
      await page.goto(path)
      await page.locator('h1').first().waitFor()
      await visit(page, name)
    }
    await page.goto('/settings/webhooks')
    await page.getByLabel('URL', { exact: true }).fill('https://hooks.mini-crm-test.invalid/in')
    await page.getByLabel('All events, also future ones').check()
    await page.getByRole('button', { name: 'Create webhook' }).click()
    await page.getByRole('link', { name: 'Deliveries' }).click()
    await page.locator('h1').first().waitFor()
    await visit(page, 'settings-webhook-deliveries')
    await page.goto('/import/companies')
    await page.getByLabel('CSV file').waitFor()
    await visit(page, 'import')
    await page.goto('/contacts')
    await page.getByRole('link', { name: 'Kenji Watanabe' }).click()
    await page.getByRole('heading', { name: 'Kenji Watanabe' }).waitFor()
    await visit(page, 'contact')
    await page.goto('/companies')
    await page.getByRole('link', { name: 'Polar Foods' }).click()
    await page.getByRole('heading', { name: 'Polar Foods' }).waitFor()
    await visit(page, 'company')
  })

  it('offers a password reset to a signed-out visitor, and explains a bad link', async () => {
    const { page } = await h.context()
    await page.goto('/login')
    await page.getByRole('link', { name: 'Forgot your password?' }).click()
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor()
    await page.getByLabel('Email').fill(owner.email)
    await visit(page, 'forgot-password')
    await page.getByRole('button', { name: 'Send reset link' }).click()
    await page.getByText(/If an account uses this email/).waitFor()
    await page.goto('/reset-password?token=not-a-real-token')
    await page.getByLabel('New password', { exact: true }).fill('another long password')
    await page.getByLabel('Repeat new password').fill('another long password')
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.getByRole('alert').first().waitFor()
    await visit(page, 'reset-password')
  })

  it('shows the demo data of npm run seed: a full board and dashboard', async () => {
    const email = uniqueEmail('demo-owner')
    const seeded = await seedDemo(h.app, { email })
    const { page } = await h.context()
    await page.goto('/login')
    await page.getByLabel('Email').fill(seeded.email)
    await page.getByLabel('Password').fill(seeded.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Pipeline' }).waitFor()
    // Every open deal of the demo is on the board, in its column.
    assert.ok(seeded.counts.deals > 0)
    await page.locator('.deal-card').first().waitFor()
    for (const stage of ['qualification', 'proposal', 'negotiation']) {
      const totals = page.getByTestId(`totals-${stage}`).filter({ hasText: /^\d+ deals/ })
      await totals.waitFor()
      const count = Number((await totals.innerText()).split(' ')[0])
      assert.ok(count > 0, stage)
      await column(page, stage)
        .locator('.deal-card')
        .nth(count - 1)
        .waitFor()
      assert.equal(await column(page, stage).locator('.deal-card').count(), count, stage)
    }
    await visit(page, 'board-demo')
    await page.goto('/dashboard')
    await page.locator('.kpi', { hasText: 'Win rate' }).waitFor()
    await page.locator('.recharts-bar-rectangle').first().waitFor()
    await assertFitsWidth(page)
    await visit(page, 'dashboard-demo')
    await page.goto('/deals')
    await page.locator('tbody tr').nth(5).waitFor()
    await visit(page, 'deals-demo')
  })

  it('works at 390 px wide: the board and a deal page fit the screen', async () => {
    const { page } = await h.context({ width: 390, height: 844 })
    await page.goto('/login')
    await page.getByLabel('Email').fill(owner.email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Pipeline' }).waitFor()
    await assertFitsWidth(page)
    await visit(page, 'board-mobile')
    await page.goto('/deals')
    await page.getByRole('link', { name: DEAL }).click()
    await page.getByRole('heading', { name: DEAL }).waitFor()
    await assertFitsWidth(page)
  })
})
