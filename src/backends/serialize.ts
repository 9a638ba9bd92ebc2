import { stringify } from 'yaml';
import type { OutputFormat } from './backend.js';

/**
 * YAML without folded lines or anchors, so output diffs cleanly and reads like hand-written YAML.
 * Written as YAML 1.1 because that is what kubectl and docker compose parse: a string such as
 * `on`, `y` or `0777` must be quoted there, or it turns into a boolean or a number.
 */
export function toYaml(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false });
}

export function serialize(value: unknown, format: OutputFormat): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value);
}
