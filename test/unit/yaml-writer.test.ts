import fc from 'fast-check';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toYaml, toYamlWithJsYaml } from '../../src/backends/serialize.js';
import { createYamlWriter, NotPlainYaml } from '../../src/backends/yaml-writer.js';

/** Strings YAML readers take for something else, or that need quoting or escaping to stay strings. */
const TRICKY = [
  ...['on', 'Off', 'y', 'N', 'yes', 'NO', 'true', 'False', 'null', 'Null', '~', '', '=', '<<', '0777', '1e3', '1_000', '1:20', '190:20:30', '-1:20.5', '_1:2'],
  ...['0x1F', '0b101', '0o17', '.5', '+12', '-1_0', '12.', '1.0e+3', '.inf', '-.Inf', '.NaN', '2024-01-01', '2001-12-14t21:59:43.10-05:00', '1e+21', '-0', '0', 'e9', 'E0', '-e+9', '1_e9', '._e1', 'E+10', 'e-1234567', 'e1234567', 'nullish', 'Falsey', 'offset', 'yes-no', '100m', '128Mi', '2024-01-01x', '1.0.0', '0xZZ', '.infinity', '-.nan', '12:30:45.5', '+.5e-3'],
  ...['- item', '-', '--port', '? q', ':x', 'a: b', 'a:b', 'a #c', 'a#c', '#c', '&a', '*a', '!tag', '|', '>', "'q'", '"q"', '%x', '@x', '`x', '[a]', '{a}', 'a,b', 'a:'],
  ...[' lead', 'trail ', 'tab\there', 'cr\rhere', 'nel\u0085', 'nbsp\u00a0', 'ls\u2028', '\ufeffbom', 'bell\u0007', 'nul\u0000', 'esc\u001b', 'del\u007f', 'back\\slash', '😀', 'é', '\ud800', 'x\udc00'],
  ...['a\nb', 'a\nb\n', 'a\nb\n\n', '\n', '\n\n', ' a\nb', '\n a', 'a\n\tb', 'a\n\n\nb', 'a \nb ', 'line\n  more\n', 'x\r\ny', "it's\nhere", '- a\n- b', ' \n', '\n ', '  \n  \n', '\n\n'],
];

/** Characters that change how YAML reads a scalar, mixed with ordinary ones. */
const CHARS = [...'ab09._-+:#?!&*|>\'"%@`,[]{}~<=eExXoOyYnNtTfFiIzZm- \n\t\r\\', '\u0085', '\u00a0', '\u2028', '\ufeff', '\u0000', 'é', '😀', '\ud800'];

const trickyString = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ maxLength: 20 }),
  // Number-like and date-like text, which must be typed exactly as js-yaml types it.
  fc.string({ unit: fc.constantFrom(...'0123456789_.:+-eExXoObBiInNaAfFZzTt'), maxLength: 10 }),
  fc.tuple(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.string({ maxLength: 4 })).map(([y, m, d, rest]) => `${y}-${m}-${d}${rest}`),
);

/** Plain data like a rendered object: what diploid hands to the writer. */
const { value: plainValue, object: plainObject } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('scalar'), tie('array'), tie('object')),
  scalar: fc.oneof(trickyString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(1e21, -0, 0.1, 1e-7, Number.MAX_SAFE_INTEGER + 2)),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(trickyString.filter((key) => key !== '__proto__'), tie('value'), { maxKeys: 4 }),
}));

const RUNS = { numRuns: 5000 };

/** Multi-line strings of only spaces and line breaks: the writer double-quotes them where js-yaml writes a block the `yaml` package misreads. */
const BLANK_BLOCK = /^(?=.*\n)(?=.* )[ \n]*$/s;
function hasBlankBlock(value: unknown): boolean {
  if (typeof value === 'string') return BLANK_BLOCK.test(value);
  if (Array.isArray(value)) return value.some(hasBlankBlock);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(hasBlankBlock);
  return false;
}

describe('writeYaml (the fast writer behind toYaml)', () => {
  it('writes exactly what js-yaml writes, for generated values full of tricky strings and numbers', () => {
    fc.assert(
      fc.property(plainValue, (value) => {
        fc.pre(!hasBlankBlock(value));
        expect(toYaml(value)).toBe(toYamlWithJsYaml(value));
      }),
      RUNS,
    );
  });

  it('writes exactly what js-yaml writes for values it skips or turns into null (undefined, functions, symbols, bigints, holes)', () => {
    // eslint-disable-next-line no-sparse-arrays
    const value = { a: undefined, b: () => 1, c: Symbol('s'), d: 10n, e: [undefined, () => 1, , 1], f: { only: undefined }, g: [undefined], h: [() => 1], i: {} };
    expect(toYaml(value)).toBe(toYamlWithJsYaml(value));
    expect(toYaml(undefined)).toBe(toYamlWithJsYaml(undefined));
    expect(toYaml('top\nlevel')).toBe(toYamlWithJsYaml('top\nlevel'));
    expect(toYaml([[1, [2]], [{ a: [] }]])).toBe(toYamlWithJsYaml([[1, [2]], [{ a: [] }]]));
  });

  // Documents are objects: js-yaml's own dump of a bare top-level "\n" (`|+` then an empty line) does not read back.
  it('reads back equal with js-yaml and with yaml as YAML 1.1 (what kubectl and docker compose parse)', () => {
    fc.assert(
      fc.property(plainObject, (value) => {
        const text = toYaml(value);
        expect(load(text), text).toEqual(value);
        expect(parse(text, { version: '1.1' }), text).toEqual(value);
      }),
      RUNS,
    );
  });

  it('reads back every tricky string equal as a value, a key and a list item, in both readers', () => {
    for (const text of TRICKY) {
      const value = { [text]: text, list: [text], nested: { deeper: [{ [text]: [text] }] } };
      const yaml = toYaml(value);
      expect(load(yaml), yaml).toEqual(value);
      expect(parse(yaml, { version: '1.1' }), yaml).toEqual(value);
    }
  });

  it('hands values that are not plain data to js-yaml: dates, class instances, boxed strings, very long keys', () => {
    class Point {
      x = 1;
    }
    for (const value of [{ at: new Date(0) }, { p: new Point() }, { s: new String('x') }, { ['k'.repeat(2000)]: 1 }]) {
      expect(() => createYamlWriter(() => false)(value)).toThrow(NotPlainYaml);
      expect(toYaml(value)).toBe(toYamlWithJsYaml(value));
    }
  });

  it('double-quotes a multi-line string of only spaces and line breaks, which the yaml package misreads as a block', () => {
    for (const text of [' \n', '\n ', '  \n  \n', '\n \n']) {
      expect(toYamlWithJsYaml({ k: text })).toMatch(/^k: \|/);
      expect(toYaml({ k: text })).toBe(`k: ${JSON.stringify(text)}\n`);
      expect(parse(toYaml({ k: text }), { version: '1.1' })).toEqual({ k: text });
    }
    // Line breaks alone stay a block, as js-yaml writes them.
    expect(toYaml({ k: '\n\n' })).toBe(toYamlWithJsYaml({ k: '\n\n' }));
  });

  it('writes block literals for multi-line strings and quotes what YAML 1.1 would type', () => {
    expect(toYaml({ script: 'set -eu\necho hi\n', on: 'on', port: '8080', keep: 'a\n\n', lead: ' x\ny' })).toBe(
      "script: |\n  set -eu\n  echo hi\n'on': 'on'\nport: '8080'\nkeep: |+\n  a\n\nlead: |2-\n   x\n  y\n",
    );
  });
});
