// The collector's budget per client address: what one client's key is, and a body taken whole or refused whole.
import { AddressBudget, addressKey } from '../src/address-budget';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 26, 8, 0, seconds));

describe('addressKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:cb00:7107', '203.0.113.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:0000:0000:0000:0009', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::203.0.113.7', '64:ff9b:0:0::/64'],
    ['', ''],
  ])('keeps %j under %j', (address, key) => expect(addressKey(address)).toBe(key));
});

describe('AddressBudget', () => {
  it('takes a body whole while it fits, refuses it whole past that until the next minute', () => {
    const budget = new AddressBudget(100);
    expect(budget.take('203.0.113.7', 60, at(10))).toEqual({ granted: true });
    expect(budget.take('203.0.113.7', 50, at(20))).toEqual({ granted: false, retryAfterSeconds: 40 });
    // The refused body took nothing: a smaller one still fits.
    expect(budget.take('203.0.113.7', 40, at(30))).toEqual({ granted: true });
    expect(budget.take('203.0.113.7', 1, at(59))).toEqual({ granted: false, retryAfterSeconds: 1 });
    expect(budget.take('203.0.113.8', 100, at(59))).toEqual({ granted: true });
    expect(budget.take('203.0.113.7', 100, at(60))).toEqual({ granted: true });
  });

  it("counts an IPv6 client's whole /64, and an IPv4 client however its address is written", () => {
    const budget = new AddressBudget(100);
    expect(budget.take('2001:db8:1:2::1', 100, at(1)).granted).toBe(true);
    expect(budget.take('2001:db8:1:2::2', 1, at(1)).granted).toBe(false);
    expect(budget.take('2001:db8:1:3::1', 1, at(1)).granted).toBe(true);
    expect(budget.take('203.0.113.7', 100, at(1)).granted).toBe(true);
    expect(budget.take('::ffff:203.0.113.7', 1, at(1)).granted).toBe(false);
  });

  it('keeps at most so many addresses a minute, the first counted starting afresh past that', () => {
    const budget = new AddressBudget(100, 2);
    for (const address of ['198.51.100.1', '198.51.100.2'])
      expect(budget.take(address, 100, at(1)).granted).toBe(true);
    expect(budget.take('198.51.100.3', 100, at(2)).granted).toBe(true);
    expect(budget.take('198.51.100.1', 100, at(3)).granted).toBe(true);
    expect(budget.take('198.51.100.3', 1, at(3)).granted).toBe(false);
  });
});
