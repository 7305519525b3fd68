import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

/**
 * A TCP hop in front of a real server (Redis, PostgreSQL) that can stall (hold every reply back: a hung
 * server that still accepts), cut (drop every connection and refuse new ones: a server that is down) and
 * restore. Used by tests and by `npm run drill`.
 */
export async function tcpProxy(targetHost: string, targetPort: number, listenPort = 0) {
  const pairs = new Set<{ client: Socket; upstream: Socket }>()
  let stalled = false
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(targetPort, targetHost)
    const pair = { client, upstream }
    pairs.add(pair)
    client.pipe(upstream)
    if (!stalled) upstream.pipe(client)
    const close = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      socket.on('error', close)
      socket.on('close', close)
    }
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  await listen(listenPort)
  const port = (server.address() as { port: number }).port
  const dropAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy()
      upstream.destroy()
    }
  }
  return {
    port,
    /** `url` with host and port replaced by this proxy's. */
    via(url: string): string {
      const parsed = new URL(url)
      parsed.hostname = '127.0.0.1'
      parsed.port = String(port)
      return parsed.toString()
    },
    stall() {
      stalled = true
      for (const { client, upstream } of pairs) upstream.unpipe(client)
    },
    resume() {
      stalled = false
      for (const { client, upstream } of pairs) upstream.pipe(client)
    },
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve))
      dropAll()
      await closed
    },
    restore: () => listen(port),
    async close() {
      const closed = new Promise((resolve) => server.close(resolve))
      dropAll()
      await closed
    },
  }
}
