/**
 * `npm run openapi`: writes the OpenAPI document the app serves to docs/openapi.json and the client's types
 * generated from it to client/src/schema.d.ts. `--check` writes nothing and fails when either is out of date.
 * `--lint` lints the document (Redocly rules, see redocly.yaml) and fails on any error.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { generateOpenApiArtifacts, lintOpenApi } from './openapi-artifacts.js'

const check = process.argv.includes('--check')
const lint = process.argv.includes('--lint')
const artifacts = await generateOpenApiArtifacts()
let failed = false
if (lint) {
  const problems = await lintOpenApi(artifacts.document)
  for (const problem of problems) console.log(problem)
  failed = problems.some((problem) => problem.startsWith('error'))
  console.log(`OpenAPI lint: ${problems.length} problem(s), ${failed ? 'FAILED' : 'no errors'}`)
}
for (const [path, content] of Object.entries(artifacts.files)) {
  if (check || lint) {
    let current = ''
    try {
      current = readFileSync(path, 'utf8')
    } catch {}
    if (current !== content) {
      console.log(`${path} is out of date: run npm run openapi`)
      failed = true
    }
  } else {
    writeFileSync(path, content)
    console.log(`wrote ${path}`)
  }
}
process.exit(failed ? 1 : 0)
