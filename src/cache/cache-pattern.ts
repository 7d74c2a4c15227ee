import { BookcastError } from '../errors';

/** Longest invalidation pattern taken (a key is about 100 characters). */
export const MAX_PATTERN_LENGTH = 512;

/** Checks an invalidation pattern as the client sent it; returns it, or throws INVALID_PARAMETER. */
export function checkPattern(pattern: string): string {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    throw new BookcastError('INVALID_PARAMETER', `a cache pattern is 1 to ${MAX_PATTERN_LENGTH} characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(pattern)) throw new BookcastError('INVALID_PARAMETER', 'a cache pattern has no control characters');
  return pattern;
}

/** Escapes Redis glob's special characters, so `text` matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * A Redis glob pattern (`*`, `?`, `[abc]`, `[^a-z]`, `\x`) as a RegExp over whole keys, for the
 * in-process cache, so one pattern means the same with and without Redis.
 */
export function globRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) out += escapeRegExp(pattern[++i]);
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0 || close === i + 1) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      out += `[${negated ? '^' : ''}${body.replace(/[\\^]/g, '\\$&')}]`;
      i = close;
    } else out += escapeRegExp(c);
  }
  return new RegExp(`^${out}$`);
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');
}
