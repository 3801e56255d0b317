import { parseInstant } from '../src';

describe('parseInstant', () => {
  it.each([
    ['2026-12-01T00:00:00Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T00:00:00+08:00', '2026-11-30T16:00:00.000Z'],
    ['2026-12-01T00:00:00-05:30', '2026-12-01T05:30:00.000Z'],
    ['2026-12-01t00:00:00z', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T00:00:00.5Z', '2026-12-01T00:00:00.500Z'],
    ['2026-12-01T00:00:00.123456789+00:00', '2026-12-01T00:00:00.123Z'],
    ['2028-02-29T23:59:59Z', '2028-02-29T23:59:59.000Z'],
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
    ['0000-01-01T23:59:00+23:59', '0000-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['9999-12-31T00:00:00-23:59', '9999-12-31T23:59:00.000Z'],
  ])('reads %s as %s', (text, instant) => {
    expect(parseInstant(text)?.toISOString()).toBe(instant);
  });

  it.each([
    ['a number as text', '1'],
    ['a date alone', '2026-12-01'],
    ['a time without an offset', '2026-12-01T00:00:00'],
    ['a time without seconds', '2026-12-01T00:00+08:00'],
    ['a space for T', '2026-12-01 00:00:00Z'],
    ['30 February', '2026-02-30T00:00:00Z'],
    ['29 February of a common year', '2026-02-29T00:00:00Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['hour 24', '2026-12-01T24:00:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['an offset of 24 hours', '2026-12-01T00:00:00+24:00'],
    ['an offset without a colon', '2026-12-01T00:00:00+0800'],
    ['trailing text', '2026-12-01T00:00:00Z '],
    ['an English date', 'Tue, 01 Dec 2026 00:00:00 GMT'],
    ['an instant before year 0000 (UTC)', '0000-01-01T00:00:00+00:01'],
    ['an instant after year 9999 (UTC)', '9999-12-31T23:59:59-00:01'],
  ])('refuses %s (%s)', (_name, text) => {
    expect(parseInstant(text)).toBeNull();
  });

  it('gives only instants whose ISO-8601 form it reads back', () => {
    for (const text of ['0000-01-01T00:00:00+23:59', '9999-12-31T23:59:59-23:59', '0000-01-01T00:00:00Z']) {
      const instant = parseInstant(text);
      if (instant) expect(parseInstant(instant.toISOString())).toEqual(instant);
    }
  });
});
