// Instants as the hub accepts them from clients: RFC 3339 date-times with an explicit offset (Z or ±hh:mm), so
// that every timestamp names one instant whatever the server's time zone.
const RFC_3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** The instant a string names, or null when it is not an RFC 3339 date-time with an offset (or not a real date). */
export function parseInstant(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const match = RFC_3339.exec(value);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetMinutes = match[8]
    ? (match[8] === '-' ? -1 : 1) * (Number(match[9]) * 60 + Number(match[10]))
    : 0;
  if (hour > 23 || minute > 59 || second > 59 || Math.abs(offsetMinutes) >= 24 * 60) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2026-02-30 over into March: a real date reads back the same day.
  if (new Date(local).getUTCDate() !== day || month < 1 || month > 12) return null;
  const milliseconds = match[7] ? Math.floor(Number(match[7]) * 1_000) : 0;
  return new Date(local - offsetMinutes * 60_000 + milliseconds);
}

export const isInstant = (value: unknown): value is string => parseInstant(value) !== null;
