/**
 * `npm run bench:console`: the console's speed in headless Chromium against the service on the embedded
 * database (PGlite, a fresh data directory) with 1,000 deals, measured, not asserted:
 * - first load of the board: a new browser profile (cold cache) opening `/` signed in, until every column shows
 *   its cards and totals (performance.now() from navigation start), 7 runs;
 * - the JavaScript of that first page: every script it loaded, gzipped (level 9, as a server would);
 * - a drag: mouse up → the card in its new column (optimistic), and the PATCH's round trip, 15 drags.
 * Targets (issue 13): board < 1.5 s, first-page JS ≤ 250 KB gzipped, a drag reflected < 100 ms.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { launchChromium } from '../web/e2e/harness.js'

const DEALS = 1000
const STAGES = ['qualification', 'proposal', 'negotiation', 'closed'] as const

const build = spawnSync('npm', ['run', 'build:web', '--silent'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

const dataDir = mkdtempSync(join(tmpdir(), 'mini-crm-console-bench-'))
const env: NodeJS.ProcessEnv = { ...process.env, PORT: '8000', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }
delete env.DATABASE_URL
delete env.REDIS_URL
const app = await buildApp({ config: loadConfig(env, dataDir), logger: false })
await app.listen({ port: 0, host: '127.0.0.1' })
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

const email = `bench-${Date.now()}@console.example`
const password = 'console bench password'
const registered = await app.inject({
  method: 'POST',
  url: '/api/v1/auth/register',
  payload: { email, password, name: 'Bench Owner', organization_name: 'Console Bench' },
})
const { access_token: token, organization_id: organizationId } = registered.json()
const headers = { authorization: `Bearer ${token}`, 'x-organization-id': organizationId }
const contact = (
  await app.inject({ method: 'POST', url: '/api/v1/contacts', headers, payload: { name: 'Bench Contact' } })
).json()
const seedStart = Date.now()
for (let i = 0; i < DEALS; i++) {
  const stage = STAGES[i % 3] as string
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/deals',
    headers,
    payload: {
      contact_id: contact.id,
      title: `Bench deal ${i + 1}`,
      amount: String(1000 + (i % 97) * 125),
      stage,
      status: i % 2 ? 'in_progress' : 'new',
      expected_close_date: `2027-0${1 + (i % 9)}-15`,
    },
  })
  if (response.statusCode !== 201) throw new Error(`seed: ${response.statusCode} ${response.body}`)
}
console.log(`seeded ${DEALS} deals on PGlite in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`)

const browser = await launchChromium()

/** A new profile signed in through the session cookie (as after a sign-in), cache empty. */
async function signedInPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base })
  const login = await context.request.post('/api/v1/auth/login', {
    data: { email, password },
    headers: { 'x-session-cookie': '1' },
  })
  if (!login.ok()) throw new Error(`login ${login.status()}`)
  const page = await context.newPage()
  return { context, page }
}

const boardReady = () =>
  [...document.querySelectorAll('.column-totals')].length === 4 &&
  [...document.querySelectorAll('.column-totals')].every((element) => !element.textContent?.includes('…')) &&
  ['qualification', 'proposal', 'negotiation'].every(
    (stage) => document.querySelectorAll(`section[data-stage="${stage}"] .deal-card`).length > 0,
  )

const loads: number[] = []
let scriptBytes = 0
let scriptGzip = 0
let scripts = 0
for (let run = 0; run < 7; run++) {
  const { context, page } = await signedInPage()
  const scriptUrls: string[] = []
  page.on('request', (request) => {
    if (request.resourceType() === 'script') scriptUrls.push(request.url())
  })
  await page.goto('/')
  await page.waitForFunction(boardReady, undefined, { timeout: 30_000, polling: 'raf' })
  loads.push(await page.evaluate(() => performance.now()))
  if (run === 0) {
    for (const url of scriptUrls) {
      const file = readFileSync(join('web', 'dist', new URL(url).pathname))
      scriptBytes += file.length
      scriptGzip += gzipSync(file, { level: 9 }).length
      scripts += 1
    }
  }
  await context.close()
}

const { context, page } = await signedInPage()
await page.goto('/')
await page.waitForFunction(boardReady, undefined, { timeout: 30_000 })
const reflected: number[] = []
const roundTrips: number[] = []
for (let i = 0; i < 15; i++) {
  const from = STAGES[i % 3] as string
  const to = STAGES[(i % 3) + 1] as string
  const card = page.locator(`section[data-stage="${from}"] .deal-card`).first()
  const title = (await card.locator('.title').innerText()).trim()
  const cardBox = await card.boundingBox()
  const column = await page.locator(`section[data-stage="${to}"]`).boundingBox()
  if (!cardBox || !column) throw new Error('board layout')
  // Watch in the page: the time from the drop to the card being in the target column.
  await page.evaluate(
    ({ to, title }) => {
      const w = window as unknown as { __drop?: number; __moved?: Promise<number> }
      w.__moved = new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          const inTarget = [
            ...document.querySelectorAll(`section[data-stage="${to}"] .deal-card .title`),
          ].some((element) => element.textContent?.trim() === title)
          if (inTarget && w.__drop !== undefined) {
            observer.disconnect()
            resolve(performance.now() - w.__drop)
          }
        })
        observer.observe(document.body, { childList: true, subtree: true })
      })
      document.addEventListener(
        'pointerup',
        () => {
          w.__drop = performance.now()
        },
        { once: true, capture: true },
      )
    },
    { to, title },
  )
  const patched = page.waitForResponse((r) => r.request().method() === 'PATCH')
  await page.mouse.move(cardBox.x + cardBox.width / 3, cardBox.y + cardBox.height - 8)
  await page.mouse.down()
  await page.mouse.move(cardBox.x + cardBox.width / 3 + 10, cardBox.y + cardBox.height - 4, { steps: 2 })
  await page.mouse.move(column.x + column.width / 2, column.y + 90, { steps: 8 })
  await page.mouse.up()
  const response = await patched
  reflected.push(await page.evaluate(() => (window as unknown as { __moved: Promise<number> }).__moved))
  const timing = response.request().timing()
  roundTrips.push(timing.responseEnd)
  if (response.status() !== 200) throw new Error(`drag PATCH ${response.status()}`)
  await page.waitForTimeout(300)
}
await context.close()
await browser.close()
await app.close()
rmSync(dataDir, { recursive: true, force: true })

const sorted = (values: number[]) => [...values].sort((a, b) => a - b)
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)] ?? Number.NaN
const max = (values: number[]) => Math.max(...values)
const ms = (value: number) => `${value.toFixed(0)} ms`
console.log('')
console.log('| measure | median | worst | target |')
console.log('|---|---|---|---|')
console.log(
  `| board first load, ${DEALS} deals, cold profile (7 runs) | ${ms(median(loads))} | ${ms(max(loads))} | < 1500 ms |`,
)
console.log(
  `| drag: drop → card in its new column (15 drags) | ${ms(median(reflected))} | ${ms(max(reflected))} | < 100 ms |`,
)
console.log(`| drag: PATCH round trip | ${ms(median(roundTrips))} | ${ms(max(roundTrips))} | |`)
console.log(
  `| first page JavaScript (${scripts} files) | ${(scriptGzip / 1024).toFixed(1)} KB gzipped (${(scriptBytes / 1024).toFixed(0)} KB raw) | | ≤ 250 KB gzipped |`,
)
