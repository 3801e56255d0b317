// Instants as the hub accepts them: RFC 3339 date-times with an explicit offset (`Z` or `±hh:mm`). A time without an
// offset names no instant, and JavaScript's lenient Date parsing reads "1" as 2001-01-01 and rolls 30 February over
// into March; neither may reach a schedule or a rule.

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

/** The instant an RFC 3339 date-time with an offset names, in years 0000 to 9999 (UTC), or null for anything else. */
export function parseInstant(text: string): Date | null {
  const match = RFC3339.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHours = Number(match[9] ?? 0);
  const offsetMinutes = Number(match[10] ?? 0);
  // Leap seconds (:60) have no JavaScript Date; they are refused rather than silently moved.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number((match[7] ?? '').padEnd(3, '0').slice(0, 3)));
  const offset = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  const instant = new Date(date.getTime() - offset * 60_000);
  // An offset can carry 0000-01-01 or 9999-12-31 into another year, which ISO-8601 writes in the extended form
  // (-000001-…, +010000-…) that DateTime output would then give and RFC 3339 input refuses: the instant is refused.
  const utcYear = instant.getUTCFullYear();
  return utcYear < 0 || utcYear > 9999 ? null : instant;
}
