/** Quoting for the two languages compose text passes through: its own interpolation and sh. */

/**
 * Compose replaces `${VAR}` and `$VAR` in every string of the file. Values diploid writes are
 * literal, so each `$` is doubled; compose turns `$$` back into `$`.
 */
export function literal(text: string): string {
  return text.replaceAll('$', () => '$$');
}

/** Doubles every `$` in every string of a value, keys left as they are. */
export function literalDeep<T>(value: T): T {
  if (typeof value === 'string') return literal(value) as T;
  if (Array.isArray(value)) return value.map((item) => literalDeep(item)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, literalDeep(item)])) as T;
  }
  return value;
}

/** A word for `sh`, quoted only when it needs to be. */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `shop-db`, `password` -> `SHOP_DB_PASSWORD`: a name usable as an environment variable. */
export function variableName(...parts: string[]): string {
  const name = parts
    .join('_')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}
