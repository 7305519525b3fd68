/**
 * `npm run db:template`: packs a freshly initialised embedded database into data-template/, which first starts
 * load instead of running initdb (peak RSS ~900 MB inside WebAssembly). Run it after upgrading PGlite; until
 * then first starts fall back to initdb.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { installedPgliteVersion, TEMPLATE_FILE, TEMPLATE_VERSION_FILE } from '../src/db/embedded.js'

const db = await PGlite.create('memory://')
const tarball = await db.dumpDataDir('gzip')
await db.close()
mkdirSync(dirname(TEMPLATE_FILE), { recursive: true })
writeFileSync(TEMPLATE_FILE, Buffer.from(await tarball.arrayBuffer()))
writeFileSync(TEMPLATE_VERSION_FILE, `${installedPgliteVersion()}\n`)
console.log(`Wrote ${TEMPLATE_FILE} for PGlite ${installedPgliteVersion()}`)
