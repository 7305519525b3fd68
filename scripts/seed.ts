/** `npm run seed`: demo data and how to sign in (see src/seed/cli.ts). */
import { main } from '../src/seed/cli.js'

process.exit(await main())
