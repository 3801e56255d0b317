// escapeRegExp: a text matches only itself inside a MongoDB $regex pattern.
import { escapeRegExp } from '../src/regexp';

describe('escapeRegExp', () => {
  it.each(['(', '.*', '[a-z]+', '\\d', 'a|b', '^$', '{2}', '?'])('%s matches only itself', (text) => {
    const pattern = new RegExp(escapeRegExp(text), 'i');
    expect(pattern.test(`x${text}y`)).toBe(true);
    expect(pattern.test('plain text without it')).toBe(false);
  });

  it('writes a NUL as an escape, never the byte MongoDB refuses in a pattern, and it still matches only a NUL', () => {
    const escaped = escapeRegExp('a\0b');
    expect(escaped).not.toContain('\0');
    expect(new RegExp(escaped).test('xa\0by')).toBe(true);
    expect(new RegExp(escaped).test('xa0by')).toBe(false);
  });
});
