/**
 * @module lib/client-address
 * Which address a per-IP limit counts.
 */

/**
 * The address a limit counts: IPv4 as it is, IPv6 by its /64 prefix. One
 * client usually holds a whole /64, and could otherwise take a fresh address
 * for every request.
 */
export function limitSubject(ip: string | null): string {
  if (!ip) return "unknown";
  if (!ip.includes(":")) return ip;
  // IPv4-mapped IPv6 (::ffff:192.0.2.1) is the IPv4 client it names.
  if (ip.includes(".")) return ip.slice(ip.lastIndexOf(":") + 1);
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
