/**
 * The service bounds how far V8 lets the old generation grow past the live heap (src/lib/heap.ts): set at
 * start-up, after V8 started, unless the operator chose a factor on the command line or in NODE_OPTIONS.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { boundHeapGrowth } from '../src/lib/heap.js'

const run = promisify(execFile)

/**
 * Full collections a child process makes while it keeps a ring of 300,000 objects and replaces them 8 million
 * times (objects live long enough to be promoted, then die: a request load's pattern), with or without the
 * service's bound. Counted, not timed: the allocation is the same every run.
 */
async function fullCollections(bounded: boolean): Promise<number> {
  const script = `
    ${bounded ? `const { boundHeapGrowth } = await import(${JSON.stringify(import.meta.resolve('../src/lib/heap.ts'))}); boundHeapGrowth()` : ''}
    const { PerformanceObserver, constants } = await import('node:perf_hooks')
    let full = 0
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++
    })
    observer.observe({ entryTypes: ['gc'] })
    const ring = new Array(300000)
    for (let i = 0; i < 8000000; i++) ring[i % ring.length] = { a: i, b: 'x' + i }
    await new Promise((resolve) => setTimeout(resolve, 50))
    console.log(full)`
  const { stdout } = await run(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), '--input-type=module', '--eval', script],
    { env: { ...process.env, NODE_OPTIONS: '' } },
  )
  return Number(stdout.trim())
}

describe('heap growth bound', () => {
  it('makes V8 collect the old generation more often when set after start-up', async () => {
    const [unbounded, bounded] = await Promise.all([fullCollections(false), fullCollections(true)])
    assert.ok(unbounded > 0, `the workload makes full collections (${unbounded})`)
    assert.ok(bounded >= unbounded * 2, `bounded ${bounded} full collections against ${unbounded} by default`)
  })

  it("keeps the operator's factor from the command line or NODE_OPTIONS", () => {
    assert.equal(boundHeapGrowth(['--heap-growing-percent=50'], ''), false)
    assert.equal(boundHeapGrowth(['--inspect'], '--max-old-space-size=512 --heap_growing_percent=30'), false)
  })
})
