import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/**
 * Addresses a webhook may not reach (spec §16: loopback, private, link-local, unspecified), with the other
 * special-purpose ranges that lead into the local network (carrier-grade NAT, multicast, reserved, NAT64).
 */
const blocked = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local (cloud metadata)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4')
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64 (reaches IPv4 behind it)
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6')
}

/** True for an address a webhook may not reach; IPv4-mapped IPv6 is judged as the IPv4 it maps. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return blocked.check(address, 'ipv4')
  if (family !== 6) return true
  const mapped = /^::ffff:(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4')
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
  if (hexMapped?.[1] && hexMapped[2]) {
    const high = Number.parseInt(hexMapped[1], 16)
    const low = Number.parseInt(hexMapped[2], 16)
    return blocked.check(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, 'ipv4')
  }
  return blocked.check(address, 'ipv6')
}

/** The host of a URL as an address or name (`[::1]` → `::1`). */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
}

function resolveAll(hostname: string, timeoutMs: number): Promise<LookupAddress[] | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs)
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
      clearTimeout(timer)
      if (error) {
        // A name that does not resolve (now) is accepted at creation; delivery checks again.
        if (error.code === 'ENOTFOUND' || error.code === 'ENODATA' || error.code === 'EAI_AGAIN') {
          resolve(undefined)
        } else reject(error)
      } else resolve(addresses)
    })
  })
}

/**
 * Why a webhook URL may not be used at creation or update, or undefined when it may: an address literal
 * in a forbidden range, or a name any of whose addresses is.
 */
export async function forbiddenTargetReason(url: URL): Promise<string | undefined> {
  const host = hostOf(url)
  if (isIP(host)) return isForbiddenAddress(host) ? `${host} is not a public address` : undefined
  const addresses = await resolveAll(host, 3_000).catch(() => undefined)
  const bad = addresses?.find((entry) => isForbiddenAddress(entry.address))
  return bad ? `${host} resolves to ${bad.address}, which is not a public address` : undefined
}

export class ForbiddenAddressError extends Error {
  readonly code = 'EFORBIDDENADDRESS'
}

/**
 * A `lookup` for outgoing delivery connections: resolves the name once, refuses it when any address is
 * forbidden, and hands the checked addresses to the socket, so the connection goes exactly where was checked
 * (no second resolution an attacker's DNS could answer differently).
 */
export const checkedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, verbatim: true, family: options.family }, (error, addresses) => {
    if (error) return callback(error, '', 4)
    const bad = addresses.find((entry) => isForbiddenAddress(entry.address))
    if (bad || addresses.length === 0) {
      const reason = bad ? `${hostname} resolved to ${bad.address}, not a public address` : 'no address'
      return callback(new ForbiddenAddressError(reason), '', 4)
    }
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
    const first = addresses[0] as LookupAddress
    callback(null, first.address, first.family)
  })
}
