/**
 * The browser test harness: the real service (buildApp, listening on a free port, on PGlite or on the
 * PostgreSQL test database like every other test), the built console from web/dist, and Debian's Chromium
 * driven by playwright-core. Pages are checked with axe-core and photographed (see SCREENSHOTS).
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { buildTestApp } from '../../test/helpers.js'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/**
 * Where `visit` saves its screenshots when asked: `CONSOLE_SCREENSHOTS=docs/console npm test --
 * web/e2e/console.e2e.ts` refreshes the committed ones. Otherwise every page is still photographed (a page that
 * cannot be rendered fails) but nothing is written: a test run leaves neither the tree nor $TMPDIR changed.
 */
export const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS
  ? resolve(process.env.CONSOLE_SCREENSHOTS)
  : undefined
const axeSource: string = createRequire(import.meta.url)('axe-core').source

/**
 * Debian's Chromium, headless. Without the background-networking flags it keeps trying Google's hosts, which
 * this machine's closed network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

export interface Harness {
  app: FastifyInstance
  base: string
  browser: Browser
  /** A fresh browser profile (its own cookies: its own session), failing the test on any page error. */
  context(viewport?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }>
  close(): Promise<void>
}

export async function startHarness(): Promise<Harness> {
  assert.ok(
    existsSync(join(process.cwd(), 'web', 'dist', 'index.html')),
    'web/dist is built (npm run build:web)',
  )
  const app = await buildTestApp({ console: true })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  assert.ok(address && typeof address === 'object')
  const base = `http://127.0.0.1:${address.port}`
  const browser = await launchChromium()
  const contexts: BrowserContext[] = []
  return {
    app,
    base,
    browser,
    async context(viewport = { width: 1280, height: 900 }) {
      const context = await browser.newContext({ viewport, baseURL: base })
      // A missing element fails in seconds, not after Playwright's 30 s default.
      context.setDefaultTimeout(10_000)
      contexts.push(context)
      const page = await context.newPage()
      watchForErrors(page)
      return { context, page }
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {})
      await browser.close()
      await app.close()
    },
  }
}

const pageErrors = new WeakMap<Page, string[]>()

/**
 * Uncaught exceptions and CSP violations are collected and fail the next `visit` (and `assertNoPageErrors`).
 * Failed requests are logged by Chromium as console errors too; those the console answers itself (a refused
 * drag, the signed-out session probe) are expected and not collected.
 */
function watchForErrors(page: Page): void {
  const errors: string[] = []
  pageErrors.set(page, errors)
  page.on('pageerror', (error) => errors.push(`page error on ${page.url()}: ${error.message}`))
  page.on('console', (message) => {
    const text = message.text()
    if (message.type() === 'error' && /Content.Security.Policy|Refused to (load|execute|apply)/i.test(text))
      errors.push(`CSP violation on ${page.url()}: ${text}`)
  })
}

export function assertNoPageErrors(page: Page): void {
  assert.deepEqual(pageErrors.get(page) ?? [], [])
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function checkAccessibility(page: Page, name: string): Promise<void> {
  // Injected through the DevTools protocol, which the page's CSP does not govern (a <script> would be refused).
  await page.evaluate(axeSource)
  const result = (await page.evaluate(() =>
    (
      window as unknown as {
        axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> }
      }
    ).axe.run(document, { resultTypes: ['violations'] }),
  )) as { violations: AxeViolation[] }
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  assert.deepEqual(
    serious.map(
      (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    ),
    [],
    `accessibility of ${name}`,
  )
}

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/** The page checked for accessibility and photographed (as <SCREENSHOTS>/<name>.png when asked). */
export async function visit(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle')
  await page
    .locator('[role="status"]:has-text("Loading")')
    .first()
    .waitFor({ state: 'detached' })
    .catch(() => {})
  assertNoPageErrors(page)
  await checkAccessibility(page, name)
  if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ ...(SCREENSHOTS && { path: join(SCREENSHOTS, `${name}.png`) }), fullPage: true })
}

/** No page is wider than its window (nothing to scroll sideways but the board and tables, which scroll inside). */
export async function assertFitsWidth(page: Page): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }))
  assert.ok(
    scrollWidth <= innerWidth + 1,
    `page ${page.url()} is ${scrollWidth}px wide in a ${innerWidth}px window`,
  )
}

/** Drags with real mouse events (dnd-kit's pointer sensor needs moves past its 6 px activation distance). */
export async function dragCard(page: Page, cardTitle: string, toStage: string): Promise<void> {
  const card = page.locator('.deal-card', { hasText: cardTitle })
  const column = page.locator(`section[data-stage="${toStage}"]`)
  const from = await card.boundingBox()
  const to = await column.boundingBox()
  assert.ok(from && to)
  await page.mouse.move(from.x + from.width / 2, from.y + 10)
  await page.mouse.down()
  await page.mouse.move(from.x + from.width / 2 + 10, from.y + 15, { steps: 3 })
  await page.mouse.move(to.x + to.width / 2, to.y + 80, { steps: 12 })
  await page.mouse.up()
}
