import { describe, expect, it } from "vitest";
import { clientAddress, limitSubject } from "../../src/lib/client-address";

describe("limitSubject", () => {
  it.each([
    ["192.0.2.7", "192.0.2.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002::9", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["0:0:0:0:0:FFFF:192.0.2.7", "192.0.2.7"],
    // Only IPv4-mapped addresses are their IPv4 client; other dotted tails count by their /64.
    ["2001:db8:1:2::198.51.100.7", "2001:db8:1:2::/64"],
    ["64:ff9b::203.0.113.9", "64:ff9b:0:0::/64"],
    [null, "unknown"],
    // Not addresses: never a bucket of their own, and never an exception.
    ["1:2:3:4:5:6:7:8:9::1", "unknown"],
    ["::1::2", "unknown"],
    ["300.1.1.1", "unknown"],
    ["evil", "unknown"],
  ])("counts %s as %s", (ip, subject) => {
    expect(limitSubject(ip)).toBe(subject);
  });
});

describe("clientAddress", () => {
  it.each([
    [" 192.0.2.7 ", "192.0.2.7"],
    ["2001:DB8::1", "2001:db8::1"],
    ["::ffff:192.0.2.7", "::ffff:192.0.2.7"],
    ["1:2:3:4:5:6:7:8:9::1", null],
    ["192.0.2.7, 10.0.0.1", null],
    ["", null],
    [undefined, null],
  ])("reads %s as %s", (header, address) => {
    expect(clientAddress(header)).toBe(address);
  });
});
