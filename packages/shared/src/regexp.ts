// Literal text inside MongoDB's `$regex` patterns: a client's search text, or an id a prefix of `_id` starts with.

/**
 * Makes `text` match itself literally inside a regular expression. A NUL is written as `\x00`: MongoDB refuses a
 * pattern holding the byte itself ("Regular expression cannot contain an embedded null byte"), which would turn a
 * client's odd search text into a server error.
 */
export const escapeRegExp = (text: string): string =>
  text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('\0', '\\x00');
