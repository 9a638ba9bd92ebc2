import { NotPlainData, toPlainData } from './sandbox/plain-data.js';
import type { Evaluation } from './sandbox/sandbox.js';

/** Service files that are data, never code: read here, without a sandbox. */
export const DATA_EXTENSIONS = ['.json', '.yaml', '.yml'];

export function isDataFile(path: string): boolean {
  return DATA_EXTENSIONS.some((extension) => path.endsWith(extension));
}

const HOST_REALM = { objectPrototype: Object.prototype, arrayPrototype: Array.prototype };

/**
 * Parses a JSON or YAML service file into plain data, or says where it is broken. The YAML parser
 * loads on the first YAML file: most repos have none, and it was 40 ms of every command's start.
 */
export async function parseDataFile(path: string, text: string): Promise<Evaluation> {
  let value: unknown;
  if (path.endsWith('.json')) {
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (error instanceof SyntaxError) return { ok: false, message: `is not valid JSON: ${error.message}` };
      throw error;
    }
  } else {
    const { parseDocument } = await import('yaml');
    const document = parseDocument(text, { uniqueKeys: true });
    const [first] = document.errors;
    if (first !== undefined) return { ok: false, message: first.message.split('\n')[0] ?? 'is not valid YAML', ...(first.linePos === undefined ? {} : { line: first.linePos[0].line }) };
    try {
      // At most 100 aliases: a YAML "billion laughs" file is refused instead of expanded.
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // The yaml library's only failure when converting a parsed document: too many aliases.
      return { ok: false, message: `cannot be expanded: ${(error as Error).message}` };
    }
  }
  try {
    return { ok: true, value: toPlainData(value, HOST_REALM), reads: [path] };
  } catch (error) {
    if (error instanceof NotPlainData) return { ok: false, message: `is not plain data: ${error.message}` };
    throw error;
  }
}
