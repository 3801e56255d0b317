// The bank's business days: an instant's day in the bank's zone, where each day begins, and plain day arithmetic.
import { BankCalendar, addDays, daysBetween, weekOf } from '../src/calendar';

const at = (iso: string) => new Date(iso);

describe('BankCalendar', () => {
  const shanghai = new BankCalendar('Asia/Shanghai');

  it("puts an instant on the bank's day, which begins at 16:00 UTC the day before in Shanghai", () => {
    expect(shanghai.dayOf(at('2026-11-25T15:59:59.999Z'))).toBe('2026-11-25');
    expect(shanghai.dayOf(at('2026-11-25T16:00:00.000Z'))).toBe('2026-11-26');
    expect(shanghai.dayOf(at('2026-11-26T15:59:59.999Z'))).toBe('2026-11-26');
    expect(shanghai.startOf('2026-11-26').toISOString()).toBe('2026-11-25T16:00:00.000Z');
    expect(shanghai.endOf('2026-11-26').toISOString()).toBe('2026-11-26T16:00:00.000Z');
  });

  it('answers from its cached day and outside it alike, in any order', () => {
    const calendar = new BankCalendar('Asia/Shanghai');
    const instants = [
      '2026-11-26T01:00:00Z',
      '2026-11-25T23:00:00Z',
      '2026-11-25T15:00:00Z',
      '2026-11-26T17:00:00Z',
    ];
    const days = instants.map((iso) => calendar.dayOf(at(iso)));
    expect(days).toEqual(['2026-11-26', '2026-11-26', '2026-11-25', '2026-11-27']);
    expect(instants.map((iso) => calendar.dayOf(Date.parse(iso)))).toEqual(days);
  });

  it('is the UTC day in UTC', () => {
    const utc = new BankCalendar('UTC');
    expect(utc.dayOf(at('2026-11-25T23:59:59Z'))).toBe('2026-11-25');
    expect(utc.startOf('2026-11-26').toISOString()).toBe('2026-11-26T00:00:00.000Z');
  });

  it('gives a day of 23 or 25 hours where daylight saving begins or ends', () => {
    const zurich = new BankCalendar('Europe/Zurich');
    const hours = (day: string) => (zurich.endOf(day).getTime() - zurich.startOf(day).getTime()) / 3_600_000;
    expect(hours('2026-03-29')).toBe(23);
    expect(hours('2026-10-25')).toBe(25);
    expect(hours('2026-11-26')).toBe(24);
    expect(zurich.dayOf(at('2026-10-24T22:30:00Z'))).toBe('2026-10-25');
  });

  it('begins a day at its first instant where midnight itself is skipped', () => {
    // Chile moves its clocks from 00:00 to 01:00 on the first Sunday of September.
    const santiago = new BankCalendar('America/Santiago');
    const start = santiago.startOf('2026-09-06');
    expect(santiago.dayOf(start)).toBe('2026-09-06');
    expect(santiago.dayOf(new Date(start.getTime() - 1))).toBe('2026-09-05');
  });

  it('reads the days of the first years of the DateTime range, year 0000 (1 BC) included, as they are', () => {
    const utc = new BankCalendar('UTC');
    expect(utc.dayOf(at('0000-02-29T12:00:00Z'))).toBe('0000-02-29');
    expect(utc.dayOf(at('0050-06-15T12:00:00Z'))).toBe('0050-06-15');
    expect(utc.startOf('0050-06-15').toISOString()).toBe('0050-06-15T00:00:00.000Z');
    expect(shanghai.endOf('0099-12-31').toISOString()).toBe('0099-12-31T15:54:17.000Z');
  });

  it('answers for a day of year 1950 after one of year 0050, never from the other day’s bounds', () => {
    const calendar = new BankCalendar('Asia/Shanghai');
    expect(calendar.dayOf(at('0050-01-01T12:00:00Z'))).toBe('0050-01-01');
    expect(calendar.dayOf(at('1950-01-01T12:00:00Z'))).toBe('1950-01-01');
  });

  it('gives a day, and its bounds, to every instant of the DateTime range, also where the day is past it', () => {
    // 20:00 UTC on the range's last day is 04:00 on 1 January 10000 in Shanghai; its first instant is 1 BC's evening
    // in New York.
    expect(shanghai.dayOf(at('9999-12-31T15:59:59.999Z'))).toBe('9999-12-31');
    expect(shanghai.dayOf(at('9999-12-31T20:00:00Z'))).toBe('+010000-01-01');
    expect(shanghai.endOf('9999-12-31').toISOString()).toBe('9999-12-31T16:00:00.000Z');
    const newYork = new BankCalendar('America/New_York');
    expect(newYork.dayOf(at('0000-01-01T00:00:00Z'))).toBe('-000001-12-31');
    expect(newYork.endOf('-000001-12-31').toISOString()).toBe('0000-01-01T04:56:02.000Z');
  });

  it('refuses a time zone the platform does not know', () => {
    expect(() => new BankCalendar('Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('day arithmetic', () => {
  it('steps over months, years and leap days', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysBetween('2026-01-01', '2027-01-01')).toBe(365);
    expect(daysBetween('2026-11-26', '2026-11-20')).toBe(-6);
  });

  it('finds the Monday of the ISO week', () => {
    expect(weekOf('2026-11-26')).toBe('2026-11-23'); // a Thursday
    expect(weekOf('2026-11-23')).toBe('2026-11-23');
    expect(weekOf('2026-11-29')).toBe('2026-11-23'); // a Sunday
  });

  it('counts the days of years 0000 to 0099 as their own, and steps past year 9999', () => {
    expect(addDays('0050-02-28', 1)).toBe('0050-03-01');
    expect(daysBetween('0000-01-01', '0001-01-01')).toBe(366);
    expect(weekOf('0001-01-03')).toBe('0001-01-01');
    expect(addDays('9999-12-31', 1)).toBe('+010000-01-01');
    expect(daysBetween('9999-12-31', '+010000-01-01')).toBe(1);
  });

  it('refuses what is not a calendar day', () => {
    expect(() => addDays('2026-11-26T00:00:00Z', 1)).toThrow(RangeError);
  });
});
