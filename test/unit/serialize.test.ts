import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { toYaml } from '../../src/backends/serialize.js';

/** Strings a YAML 1.1 reader (kubectl, docker compose) would turn into booleans, numbers, nulls or dates. */
const TRICKY = ['on', 'Off', 'y', 'N', 'yes', 'NO', 'true', '0777', '1e3', '1_000', '1:20', '190:20:30', '0x1F', '0b101', '.5', '+12', '-1_0', '12.', '1.0e+3', '.inf', '-.inf', '.NaN', '~', 'NULL', '', '=', '<<', '2024-01-01', '2001-12-14t21:59:43.10-05:00', 'e9', '1_e9'];

describe('toYaml', () => {
  it('quotes every string a YAML 1.1 reader would take for something else', () => {
    for (const text of TRICKY) expect(parse(toYaml({ value: text }), { version: '1.1' }), toYaml({ value: text })).toEqual({ value: text });
  });

  it('keeps ordinary strings plain, key order as built, and multi-line text as a block', () => {
    expect(toYaml({ name: 'api', image: 'nginx:1.27', args: ['--port', '8080'], script: 'set -eu\necho hi\n' })).toBe(
      "name: api\nimage: nginx:1.27\nargs:\n  - '--port'\n  - '8080'\nscript: |\n  set -eu\n  echo hi\n",
    );
  });

  it('leaves out undefined fields instead of failing', () => {
    expect(toYaml({ a: 1, b: undefined })).toBe('a: 1\n');
  });
});
