import { stringify } from 'yaml';
import type { OutputFormat } from './backend.js';

/** YAML without folded lines or anchors, so output diffs cleanly and reads like hand-written YAML. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

export function serialize(value: unknown, format: OutputFormat): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value);
}
