import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

// web_fetch must not become a way into the operator's network (SSRF): every address a host
// resolves to is checked, and a host with any private, loopback, link-local or otherwise
// non-public address is refused, unless WEB_FETCH_ALLOW_PRIVATE=true.

function ipv4Parts(address: string): number[] {
  return address.split(".").map(Number);
}

function isPrivateIpv4(address: string): boolean {
  const [a = 0, b = 0, c = 0] = ipv4Parts(address);
  return (
    a === 0 || // "this" network
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && c === 0) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  );
}

/** Expands `::`-shortened IPv6 to its eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  const zone = address.indexOf("%");
  let text = (zone >= 0 ? address.slice(0, zone) : address).toLowerCase();
  // An embedded IPv4 tail (::ffff:10.0.0.1) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Parts(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...fill, ...right].map((g) => Number.parseInt(g || "0", 16));
}

function isPrivateIpv6(address: string): boolean {
  const g = ipv6Groups(address);
  const first = g[0] ?? 0;
  if (g.slice(0, 7).every((x) => x === 0) && (g[7] === 0 || g[7] === 1)) return true; // :: and ::1
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible: judge the IPv4 address.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) {
    const hi = g[6] ?? 0;
    const lo = g[7] ?? 0;
    return isPrivateIpv4(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  if (first === 0x64 && g[1] === 0xff9b) return true; // NAT64 can reach IPv4 private space
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00 || first === 0x2001 && g[1] === 0xdb8;
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return isPrivateIpv4(address);
  if (family === 6) return isPrivateIpv6(address);
  return true;
}

export class BlockedAddressError extends Error {}

/** How a host name becomes addresses, and which addresses must not be reached; tests pass their own. */
export interface AddressGuard {
  resolve(hostname: string): Promise<string[]>;
  isBlocked(address: string): boolean;
}

export const systemGuard: AddressGuard = {
  resolve: async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address),
  isBlocked: isPrivateAddress,
};

/**
 * Resolves `hostname` once and returns the address to connect to; throws BlockedAddressError if
 * any of its addresses is not public. The caller must connect to exactly this address: resolving
 * again at connect time would let DNS rebinding swap in a private one after the check.
 */
export async function checkedAddress(hostname: string, guard: AddressGuard = systemGuard): Promise<string> {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  const addresses = isIP(host) ? [host] : await guard.resolve(host);
  const blocked = addresses.find((a) => guard.isBlocked(a));
  if (blocked !== undefined) {
    throw new BlockedAddressError(`${hostname} resolves to ${blocked}, a private, loopback or link-local address (set WEB_FETCH_ALLOW_PRIVATE=true to allow)`);
  }
  const [first] = addresses;
  if (first === undefined) throw new Error(`${hostname} has no address`);
  return first;
}
