import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { StartupError } from '../lib/startup-error.js'

/**
 * An exclusive lock on the embedded database's folder: PGlite has no postmaster to refuse a second opener,
 * and two processes on one folder lose acknowledged writes and corrupt indexes. The lock is a file created
 * with O_EXCL holding `pid@host`; a lock whose process is gone (SIGKILL, crash, power loss) is stale and
 * taken over. Same host only: a folder shared between hosts or containers cannot be guarded this way (its
 * owner's pid is unknowable), so such a lock is reported as held and must be removed by hand.
 */
export interface DataLock {
  release(): void
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function owner(file: string): { pid: number; host: string } | undefined {
  try {
    const [pid, host] = readFileSync(file, 'utf8').trim().split('@')
    return { pid: Number(pid), host: host ?? '' }
  } catch {
    return undefined
  }
}

/** Lock files this process holds: a second open in the same process is refused too. */
const held = new Set<string>()

export function lockDataDir(dataDir: string): DataLock {
  const file = `${dataDir}.lock`
  const me = `${process.pid}@${hostname()}`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeSync(fd, `${me}\n`)
      closeSync(fd)
      held.add(file)
      const release = () => {
        process.off('exit', release)
        held.delete(file)
        if (owner(file) && `${owner(file)?.pid}@${owner(file)?.host}` === me) {
          try {
            unlinkSync(file)
          } catch {}
        }
      }
      // process.exit() skips close hooks; the lock still goes with the process.
      process.on('exit', release)
      return { release }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = owner(file)
      // Our own pid in a lock we do not hold: a previous life of this container's pid 1, say.
      const stale =
        holder !== undefined &&
        holder.host === hostname() &&
        Number.isInteger(holder.pid) &&
        (holder.pid === process.pid ? !held.has(file) : !alive(holder.pid))
      if (!stale) {
        const who = holder ? `pid ${holder.pid} on ${holder.host}` : 'unknown process'
        throw new StartupError(
          `The embedded database ${dataDir} is in use by another process (${who}; lock file ${file}): stop it first, or delete the lock file if that process is gone`,
        )
      }
      try {
        unlinkSync(file)
      } catch {}
    }
  }
  throw new StartupError(`Could not lock the embedded database ${dataDir} (lock ${file})`)
}
