/**
 * @module lib/client-address
 * The client's address as a request names it, and which address a per-IP
 * limit counts. Anything that is not a plain IPv4 or IPv6 address is no
 * address at all: it reads as unknown, never as a bucket of its own.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/** The address `header` (CF-Connecting-IP) holds, or null when it holds none. */
export function clientAddress(header: string | null | undefined): string | null {
  const value = header?.trim() ?? "";
  if (IPV4.test(value)) return value;
  return ipv6Groups(value) ? value.toLowerCase() : null;
}

/**
 * The address a limit counts: IPv4 as it is, IPv6 by its /64 prefix. One
 * client usually holds a whole /64, and could otherwise take a fresh address
 * for every request.
 */
export function limitSubject(ip: string | null): string {
  if (!ip) return "unknown";
  if (IPV4.test(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (!groups) return "unknown";
  // An IPv4-mapped IPv6 address (::ffff:0:0/96) is the IPv4 client it names;
  // any other IPv6 with a dotted tail is counted by its /64 like the rest.
  const tail = ip.slice(ip.lastIndexOf(":") + 1);
  const head = groups.slice(0, 6).map((group) => group.replace(/^0+(?=.)/, ""));
  if (IPV4.test(tail) && head.join(":") === "0:0:0:0:0:ffff") return tail;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail counts as two), or null. */
function ipv6Groups(address: string): string[] | null {
  if (!address.includes(":") || address.length > 45) return null;
  const halves = address.toLowerCase().split("::");
  if (halves.length > 2) return null;
  const parts = halves.map((half) => (half === "" ? [] : half.split(":")));
  const last = parts.at(-1) ?? [];
  // An embedded IPv4 address (the last 32 bits) stands for two groups.
  const tail = last.at(-1) ?? "";
  if (IPV4.test(tail)) last.splice(-1, 1, "0", "0");
  if (!parts.every((half) => half.every((group) => HEX_GROUP.test(group)))) return null;
  const [left = [], right = []] = parts;
  const count = left.length + right.length;
  if (halves.length === 1) return count === 8 ? left : null;
  return count <= 7 ? [...left, ...Array(8 - count).fill("0"), ...right] : null;
}
