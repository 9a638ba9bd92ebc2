import { parse as parseYaml, YAMLParseError } from 'yaml';
import { NotPlainData, toPlainData } from './sandbox/plain-data.js';
import type { Evaluation } from './sandbox/sandbox.js';

/** Service files that are data, never code: read here, without a sandbox. */
export const DATA_EXTENSIONS = ['.json', '.yaml', '.yml'];

export function isDataFile(path: string): boolean {
  return DATA_EXTENSIONS.some((extension) => path.endsWith(extension));
}

const HOST_REALM = { objectPrototype: Object.prototype, arrayPrototype: Array.prototype };

/** Parses a JSON or YAML service file into plain data, or says where it is broken. */
export function parseDataFile(path: string, text: string): Evaluation {
  let value: unknown;
  try {
    // At most 100 aliases: a YAML "billion laughs" file is refused instead of expanded.
    value = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    if (error instanceof YAMLParseError) return { ok: false, message: error.message.split('\n')[0] ?? 'is not valid YAML', ...(error.linePos === undefined ? {} : { line: error.linePos[0].line }) };
    if (error instanceof SyntaxError) return { ok: false, message: `is not valid JSON: ${error.message}` };
    throw error;
  }
  try {
    return { ok: true, value: toPlainData(value, HOST_REALM), reads: [path] };
  } catch (error) {
    if (error instanceof NotPlainData) return { ok: false, message: `is not plain data: ${error.message}` };
    throw error;
  }
}
