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

  it('refuses what is not a calendar day', () => {
    expect(() => addDays('2026-11-26T00:00:00Z', 1)).toThrow(RangeError);
  });
});
