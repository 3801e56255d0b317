// The send-time model's domain functions: hours on the bank's clock, opens counted once per hour of a day, smoothing
// towards the population, the peak hour and who gets the population's.
import { BankCalendar } from '@bank-hub/shared';
import {
  bestHourOf,
  emptyHistogram,
  histogramOf,
  openHourAt,
  peakHour,
  smoothed,
} from '../src/domain/send-time';

const histogram = (counts: Record<number, number>): number[] =>
  emptyHistogram().map((_, hour) => counts[hour] ?? 0);

describe('the send-time model', () => {
  it('reads an open’s hour and day on the bank’s clock, not UTC', () => {
    const shanghai = new BankCalendar('Asia/Shanghai');
    expect(openHourAt(new Date('2026-11-26T12:30:00Z'), shanghai)).toEqual({ day: '2026-11-26', hour: 20 });
    expect(openHourAt(new Date('2026-11-26T16:05:00Z'), shanghai)).toEqual({ day: '2026-11-27', hour: 0 });
  });

  it('counts an hour of a day once, however many opens it holds', () => {
    const opens = [
      ...Array.from({ length: 1_000 }, () => ({ day: '2026-11-26', hour: 7 })),
      { day: '2026-11-26', hour: 20 },
      { day: '2026-11-25', hour: 20 },
    ];
    expect(histogramOf(opens)).toEqual(histogram({ 7: 1, 20: 2 }));
  });

  it('takes the peak, the earlier hour on a tie', () => {
    expect(peakHour(histogram({ 8: 3, 20: 3, 21: 1 }))).toBe(8);
    expect(peakHour(histogram({ 20: 3, 8: 2 }))).toBe(20);
    expect(peakHour(emptyHistogram())).toBe(0);
  });

  it('spreads the prior as the population, evenly while it has none', () => {
    const population = histogram({ 12: 3, 20: 1 });
    expect(smoothed(histogram({ 20: 1 }), population, 4)).toEqual(histogram({ 12: 3, 20: 2 }));
    expect(smoothed(emptyHistogram(), emptyHistogram(), 24)).toEqual(emptyHistogram().map(() => 1));
  });

  it('gives a member with enough opens their own hour, the prior deciding a close call', () => {
    const population = histogram({ 12: 90, 20: 10 });
    const parameters = { population, priorOpens: 5, minOpens: 3 };
    // 5 at 20:00 and 0.5 pseudo-opens against 4.5 at noon.
    expect(bestHourOf(histogram({ 20: 5 }), parameters)).toEqual({ hour: 20, personal: true });
    // 2 at 07:00 and 1 at 12:00, plus 4.5 pseudo-opens at 12:00: noon.
    expect(bestHourOf(histogram({ 7: 2, 12: 1 }), parameters)).toEqual({ hour: 12, personal: true });
    expect(bestHourOf(histogram({ 7: 3 }), { ...parameters, priorOpens: 0 })).toEqual({
      hour: 7,
      personal: true,
    });
  });

  it('gives the population’s hour to a member with fewer opens than minOpens, or none', () => {
    const parameters = { population: histogram({ 12: 90, 20: 10 }), priorOpens: 5, minOpens: 3 };
    expect(bestHourOf(histogram({ 20: 2 }), parameters)).toEqual({ hour: 12, personal: false });
    expect(bestHourOf(null, parameters)).toEqual({ hour: 12, personal: false });
  });

  it('knows no hour while the population opened fewer than minOpens messages, or none', () => {
    const parameters = { population: emptyHistogram(), priorOpens: 5, minOpens: 3 };
    expect(bestHourOf(null, parameters)).toEqual({ hour: null, personal: false });
    expect(bestHourOf(histogram({ 3: 1 }), { ...parameters, population: histogram({ 3: 2 }) })).toEqual({
      hour: null,
      personal: false,
    });
    // One open is enough when minOpens asks for none; nothing at all never is.
    expect(bestHourOf(null, { ...parameters, minOpens: 0 })).toEqual({ hour: null, personal: false });
    expect(bestHourOf(null, { ...parameters, minOpens: 0, population: histogram({ 3: 1 }) })).toEqual({
      hour: 3,
      personal: false,
    });
    // A member with opens of their own keeps them.
    expect(bestHourOf(histogram({ 21: 3 }), parameters)).toEqual({ hour: 21, personal: true });
  });
});
