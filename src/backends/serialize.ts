import { dump, DEFAULT_SCHEMA, Type } from 'js-yaml';
import type { OutputFormat } from './backend.js';

/**
 * Plain scalars that YAML 1.1 (what kubectl and docker compose parse) reads as something other
 * than a string: booleans such as `on` and `y`, numbers such as `0777`, `1_000`, `1:20` or `.5`,
 * nulls, timestamps, merge keys. Declared as a type so that the dumper quotes any string that
 * matches; it is never used to read YAML.
 */
const YAML_11_NON_STRING = new Type('tag:diploid.dev,2026:yaml-1.1-non-string', {
  kind: 'scalar',
  resolve: (data: string) =>
    /^(?:[-+]?(?:0b[01_]+|0[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|[0-9][0-9_]*|(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.(?:inf|Inf|INF))|\.(?:nan|NaN|NAN)|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|~|null|Null|NULL|=|<<)$/.test(data) ||
    /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/.test(data),
  construct: (data: string) => data,
});
const SCHEMA = DEFAULT_SCHEMA.extend({ implicit: [YAML_11_NON_STRING] });

/**
 * YAML without folded lines or anchors, so output diffs cleanly and reads like hand-written YAML,
 * and safe for YAML 1.1 readers (see above). js-yaml rather than `yaml`: it writes the same
 * documents four to five times faster, which is most of a large render.
 */
export function toYaml(value: unknown): string {
  return dump(value, { schema: SCHEMA, lineWidth: -1, noRefs: true, skipInvalid: true });
}

export function serialize(value: unknown, format: OutputFormat): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value);
}
