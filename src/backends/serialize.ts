import { dump, DEFAULT_SCHEMA, Type } from 'js-yaml';
import { InternalError } from '../errors.js';
import type { OutputFormat } from './backend.js';
import { createYamlWriter, NotPlainYaml } from './yaml-writer.js';

/**
 * Plain scalars that YAML 1.1 (what kubectl and docker compose parse) reads as something other
 * than a string: booleans such as `on` and `y`, numbers such as `0777`, `1_000`, `1:20` or `.5`,
 * nulls, timestamps, merge keys; and exponents without a mantissa or with underscores (`e9`,
 * `1_e9`), which the `yaml` package reads as numbers in YAML 1.1 mode. Declared as a type so that the dumper quotes any string that
 * matches; it is never used to read YAML.
 */
const YAML_11_NON_STRING = new Type('tag:diploid.dev,2026:yaml-1.1-non-string', {
  kind: 'scalar',
  resolve: (data: string) =>
    /^(?:[-+]?(?:0b[01_]+|0[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|[0-9][0-9_]*|(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+|\.(?:inf|Inf|INF))|\.(?:nan|NaN|NAN)|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|~|null|Null|NULL|=|<<)$/.test(data) ||
    /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/.test(data),
  construct: (data: string) => data,
});
const SCHEMA = DEFAULT_SCHEMA.extend({ implicit: [YAML_11_NON_STRING] });

/**
 * The schema's implicit types, the very list js-yaml's dumper tries on every plain string (null,
 * bool, int, float, timestamp, merge, then ours): a string any of them resolves must be quoted.
 */
const IMPLICIT = (SCHEMA as unknown as { compiledImplicit?: readonly Type[] }).compiledImplicit;
if (!Array.isArray(IMPLICIT) || !IMPLICIT.includes(YAML_11_NON_STRING)) throw new InternalError('js-yaml no longer exposes its compiled implicit types: serialize.ts must be updated');
const writeYaml = createYamlWriter((text) => IMPLICIT.some((type) => type.resolve(text)));

const OPTIONS = { schema: SCHEMA, lineWidth: -1, noRefs: true, skipInvalid: true };

/** js-yaml itself, for what the fast writer leaves to it, and for tests that compare the two. */
export function toYamlWithJsYaml(value: unknown): string {
  return dump(value, OPTIONS);
}

/**
 * YAML without folded lines or anchors, so output diffs cleanly and reads like hand-written YAML,
 * and safe for YAML 1.1 readers (see above). The text is js-yaml's (`toYamlWithJsYaml`), written
 * by `yaml-writer.ts` for plain data: js-yaml itself was most of a large render.
 */
export function toYaml(value: unknown): string {
  try {
    return writeYaml(value);
  } catch (error) {
    if (error instanceof NotPlainYaml) return toYamlWithJsYaml(value);
    throw error;
  }
}

export function serialize(value: unknown, format: OutputFormat): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value);
}
