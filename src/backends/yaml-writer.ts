/**
 * A YAML writer for the plain data diploid renders (objects, arrays, strings, numbers, booleans,
 * null), written to produce byte for byte what js-yaml's `dump` writes with the options of
 * `serialize.ts` (block style, indent 2, no line width, no references, invalid values skipped,
 * single quotes): the same rules in the same order, without js-yaml's per-node state, closures
 * and type probing. It is most of a large render otherwise (160 ms of 1000 services' 920). One
 * departure, on purpose: a multi-line string of only spaces and line breaks (some spaces) is double-quoted.
 *
 * Anything else (a Date, a class instance, a boxed string, a key longer than js-yaml writes
 * inline) throws `NotPlainYaml`; the caller then hands the whole value to js-yaml.
 */

/** The value holds something this writer leaves to js-yaml. */
export class NotPlainYaml extends Error {
  override readonly name = 'NotPlainYaml';
}

/** Decides whether a plain scalar would be read back as something other than a string. */
export type AmbiguityTest = (text: string) => boolean;

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const SPACE = 0x20;
const SHARP = 0x23;
const COLON = 0x3a;
const BOM = 0xfeff;

/** Characters that may not start a plain scalar (YAML's c-indicator), as in js-yaml's isPlainSafeFirst. */
const INDICATORS = new Set([...'-?:,[]{}#&*!|=>\'"%@`'].map((c) => c.charCodeAt(0)));

/**
 * First characters of every string a type of the dump schema may resolve (null `~`/`null`, bool,
 * int, float, timestamp, merge `<<`, the YAML 1.1 types of `serialize.ts`, `e9` among them) or that js-yaml quotes
 * for YAML 1.1 compatibility (`yes`/`no`/`on`/`off`/`y`/`n`, base-60 numbers). A string starting
 * with any other character cannot be ambiguous: the type checks are skipped for it. The property
 * tests compare this writer with js-yaml on strings starting with every kind of character.
 */
const MAYBE_TYPED = new Uint8Array(128);
for (const c of '~nNtTfFyYoOeE-+.0123456789<=_') MAYBE_TYPED[c.charCodeAt(0)] = 1;

/**
 * A string starting with a letter is typed only as a word of at most five letters (`null`, `False`,
 * `yes`, `off`...) or as an exponent (`e9`, `E+10`): longer words are never checked.
 */
function mayBeWord(text: string): boolean {
  if (text.length <= 5) return true;
  const first = text.charCodeAt(0);
  const second = text.charCodeAt(1);
  return (first === 0x65 || first === 0x45) && (second === 0x2b || second === 0x2d || (second >= 0x30 && second <= 0x39));
}

/**
 * A string starting with a digit, a sign, a dot or `_`, `<`, `=`, `~` is typed only as a date (any
 * text may follow `2024-01-01`) or as something written in the characters of numbers (`0x1F`,
 * `0o17`, `1_000`, `1:20`, `1e3`, `.inf`, `-.NaN`) or `<<`, `=`, `~`: `100m` or `/x` never are.
 */
const NUMBER_CHARACTERS = /^[-+._:0-9a-fA-FxXoObBiInN<=~]*$/;
const DATE_PREFIX = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/;
function mayBeNumber(text: string): boolean {
  return NUMBER_CHARACTERS.test(text) || DATE_PREFIX.test(text);
}

/** js-yaml's compatibility quoting (its DEPRECATED_BOOLEANS_SYNTAX and DEPRECATED_BASE60_SYNTAX). */
const YAML_11_BOOLEANS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);
const BASE_60 = /^[-+]?[0-9_]+(?::[0-9_]+)+(?:\.[0-9_]*)?$/;
const SCIENTIFIC_WITHOUT_DOT = /^[-+]?[0-9]+e/;
const LEADING_SPACE = /^\n* /;
/** Only spaces and line breaks, at least one space. */
const BLANK = /^\n*(?: +\n*)+$/;

const ESCAPES = new Map<number, string>([
  [0x00, '\\0'],
  [0x07, '\\a'],
  [0x08, '\\b'],
  [0x09, '\\t'],
  [0x0a, '\\n'],
  [0x0b, '\\v'],
  [0x0c, '\\f'],
  [0x0d, '\\r'],
  [0x1b, '\\e'],
  [0x22, '\\"'],
  [0x5c, '\\\\'],
  [0x85, '\\N'],
  [0xa0, '\\_'],
  [0x2028, '\\L'],
  [0x2029, '\\P'],
]);

/** Printable without escaping (YAML's nb-char minus tab, NEL, NBSP, LS and PS, as js-yaml has it). */
function isPrintable(c: number): boolean {
  return (
    (c >= 0x20 && c <= 0x7e) ||
    (c >= 0xa1 && c <= 0xd7ff && c !== 0x2028 && c !== 0x2029) ||
    (c >= 0xe000 && c <= 0xfffd && c !== BOM) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}

function isWhitespace(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** ns-char or white space; -1 (no previous character) is neither. */
function isNsCharOrWhitespace(c: number): boolean {
  return isPrintable(c) && c !== BOM && c !== CR && c !== LF;
}

/** js-yaml's isPlainSafe in block context: no ` #`, no `: `, nothing unprintable. */
function isPlainSafe(c: number, prev: number): boolean {
  const nsOrWhite = isNsCharOrWhitespace(c);
  const nsChar = nsOrWhite && !isWhitespace(c);
  return (
    (nsOrWhite && c !== SHARP && !(prev === COLON && !nsChar)) ||
    (isNsCharOrWhitespace(prev) && !isWhitespace(prev) && c === SHARP) ||
    (prev === COLON && nsChar)
  );
}

function isPlainSafeFirst(c: number): boolean {
  return isPrintable(c) && c !== BOM && !isWhitespace(c) && !INDICATORS.has(c);
}

function isPlainSafeLast(c: number): boolean {
  return !isWhitespace(c) && c !== COLON;
}

function codePointAt(text: string, index: number): number {
  const first = text.charCodeAt(index);
  if (first >= 0xd800 && first <= 0xdbff && index + 1 < text.length) {
    const second = text.charCodeAt(index + 1);
    if (second >= 0xdc00 && second <= 0xdfff) return (first - 0xd800) * 0x400 + second - 0xdc00 + 0x10000;
  }
  return first;
}

const newlines: string[] = [];
/** A line break and the indentation of `level`. */
function newline(level: number): string {
  return (newlines[level] ??= `\n${' '.repeat(2 * level)}`);
}

/**
 * A writer of YAML documents as js-yaml's `dump` writes them with `lineWidth: -1, noRefs: true,
 * skipInvalid: true`; `ambiguous` is its schema's implicit type check. Each writer keeps the text
 * of the keys it wrote (see `keyScalar`).
 */
export function createYamlWriter(ambiguous: AmbiguityTest): (value: unknown) => string {
  const writer: Writer = { ambiguous, keys: new Map() };
  return (value) => {
    const written = node(value, 0, true, writer);
    if (written === undefined) return '';
    const document = `${written}\n`;
    // The text is a tree of concatenations (about 20 bytes per piece); reading a character makes
    // V8 flatten it into one string now, while the pieces are young garbage, cheap to collect.
    document.charCodeAt(0);
    return document;
  };
}

interface Writer {
  readonly ambiguous: AmbiguityTest;
  readonly keys: Map<string, string>;
}

/** One node at `level`; undefined for what js-yaml skips (undefined, functions, symbols, bigints). */
function node(value: unknown, level: number, compact: boolean, writer: Writer): string | undefined {
  switch (typeof value) {
    case 'string':
      return scalar(value, level, false, writer.ambiguous);
    case 'number':
      return number(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return value.length === 0 ? '[]' : sequence(value, level, compact, writer);
      if (Object.prototype.toString.call(value) !== '[object Object]') throw new NotPlainYaml();
      {
        const prototype = Object.getPrototypeOf(value) as unknown;
        if (prototype !== Object.prototype && prototype !== null) throw new NotPlainYaml();
      }
      return mapping(value as Record<string, unknown>, level, compact, writer);
    default:
      return undefined;
  }
}

function mapping(object: Record<string, unknown>, level: number, compact: boolean, writer: Writer): string {
  let out = '';
  for (const key of Object.keys(object)) {
    const keyText = keyScalar(key, writer);
    // js-yaml writes a key this long as an explicit `? key` pair.
    if (keyText.length > 1024) throw new NotPlainYaml();
    const value = object[key];
    const written = node(value, level + 1, false, writer);
    if (written === undefined) continue;
    if (!compact || out !== '') out += newline(level);
    out += keyText;
    // A non-empty mapping or sequence below a key starts on its own line (js-yaml looks for the
    // line break; reading the first character of a string built by concatenation would copy it).
    out += typeof value === 'object' && value !== null && written !== '{}' && written !== '[]' ? ':' : ': ';
    out += written;
  }
  return out === '' ? '{}' : out;
}

function sequence(items: readonly unknown[], level: number, compact: boolean, writer: Writer): string {
  let out = '';
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    // An undefined item (or a hole) is written as null, as js-yaml does; other invalid items are left out.
    const written = item === undefined ? 'null' : node(item, level + 1, true, writer);
    if (written === undefined) continue;
    if (!compact || out !== '') out += newline(level);
    // Items are written compact: an item's text never starts with a line break.
    out += '- ';
    out += written;
  }
  return out === '' ? '[]' : out;
}

/** js-yaml's int and float representations, default styles. */
function number(value: number): string {
  if (value % 1 === 0 && !Object.is(value, -0)) return value.toString(10);
  if (Number.isNaN(value)) return '.nan';
  if (value === Number.POSITIVE_INFINITY) return '.inf';
  if (value === Number.NEGATIVE_INFINITY) return '-.inf';
  if (Object.is(value, -0)) return '-0.0';
  const text = value.toString(10);
  return SCIENTIFIC_WITHOUT_DOT.test(text) ? text.replace('e', '.e') : text;
}

/**
 * Keys repeat across objects (`metadata`, `app.kubernetes.io/name`...) and are written the same at
 * any depth: their text is kept, up to a bound so a hostile input cannot grow it without end.
 */
const KEY_CACHE_LIMIT = 10_000;

function keyScalar(key: string, writer: Writer): string {
  let text = writer.keys.get(key);
  if (text === undefined) {
    text = scalar(key, 0, true, writer.ambiguous);
    if (writer.keys.size < KEY_CACHE_LIMIT) writer.keys.set(key, text);
  }
  return text;
}

/** A string as js-yaml's writeScalar writes it with no line width: plain, single-quoted, literal block or double-quoted. */
function scalar(text: string, level: number, isKey: boolean, ambiguous: AmbiguityTest): string {
  const length = text.length;
  if (length === 0) return "''";
  const first = text.charCodeAt(0);
  const maybeTyped = first < 128 && MAYBE_TYPED[first] === 1 && (first >= 0x61 || (first >= 0x41 && first <= 0x5a) ? mayBeWord(text) : mayBeNumber(text));
  if (maybeTyped && (YAML_11_BOOLEANS.has(text) || BASE_60.test(text))) return `'${text}'`;

  let plain = isPlainSafeFirst(codePointAt(text, 0)) && isPlainSafeLast(codePointAt(text, length - 1));
  let lineBreak = false;
  let prev = -1;
  for (let i = 0; i < length; ) {
    const c = text.charCodeAt(i);
    // Printable ASCII other than space: plain-safe after anything, except `#` after white space.
    if (c > SPACE && c < 0x7f) {
      if (c === SHARP && plain) plain = isPlainSafe(c, prev);
      prev = c;
      i++;
      continue;
    }
    if (c === SPACE) {
      if (prev === COLON) plain = false;
      prev = c;
      i++;
      continue;
    }
    const point = codePointAt(text, i);
    if (point === LF && !isKey) lineBreak = true;
    else if (!isPrintable(point)) return doubleQuoted(text);
    plain &&= isPlainSafe(point, prev);
    prev = point;
    i += point >= 0x10000 ? 2 : 1;
  }
  if (!lineBreak) return plain && !(maybeTyped && ambiguous(text)) ? text : `'${text.replace(/'/g, "''")}'`;
  // The one departure from js-yaml: a block of nothing but spaces and line breaks (`|2` then lines
  // of spaces) reads back as an empty string in the `yaml` package; double quotes read back alike everywhere.
  if (BLANK.test(text)) return doubleQuoted(text);
  return literal(text, 2 * Math.max(1, level));
}

/** A literal block (`|`), its lines indented, with js-yaml's indentation and chomping indicators. */
function literal(text: string, indent: number): string {
  const clip = text.charCodeAt(text.length - 1) === LF;
  const keep = clip && (text.charCodeAt(text.length - 2) === LF || text === '\n');
  let out = `|${LEADING_SPACE.test(text) ? '2' : ''}${keep ? '+' : clip ? '' : '-'}\n`;
  const pad = ' '.repeat(indent);
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n', start);
    const stop = end === -1 ? text.length : end + 1;
    // Empty lines stay empty; the last line's break is the document's.
    if (stop - start > 1 || (stop - start === 1 && end === -1)) out += pad;
    out += stop === text.length && end !== -1 ? text.slice(start, stop - 1) : text.slice(start, stop);
    start = stop;
  }
  return out;
}

function doubleQuoted(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; ) {
    const c = codePointAt(text, i);
    const escape = ESCAPES.get(c);
    if (escape === undefined && isPrintable(c)) out += c >= 0x10000 ? text.slice(i, i + 2) : text[i];
    else out += escape ?? hex(c);
    i += c >= 0x10000 ? 2 : 1;
  }
  return `${out}"`;
}

function hex(c: number): string {
  const digits = c.toString(16).toUpperCase();
  return c <= 0xff ? `\\x${digits.padStart(2, '0')}` : c <= 0xffff ? `\\u${digits.padStart(4, '0')}` : `\\U${digits.padStart(8, '0')}`;
}
