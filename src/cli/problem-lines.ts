import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigProblem } from '../errors.js';

/**
 * Adds the line a problem is on, found by walking its path's keys through the file's text
 * (`services.api.ports.http` finds `ports`, then `http` after it). A key written only through
 * a spread or an import has no line of its own; the problem then keeps none.
 */
export function withLines(problems: readonly ConfigProblem[], cwd: string = process.cwd()): ConfigProblem[] {
  const texts = new Map<string, string | undefined>();
  const textOf = (file: string) => {
    if (!texts.has(file)) {
      try {
        texts.set(file, readFileSync(resolve(cwd, file), 'utf8'));
      } catch {
        texts.set(file, undefined);
      }
    }
    return texts.get(file);
  };
  return problems.map((problem) => {
    if (problem.line !== undefined || problem.path === '') return problem;
    const text = textOf(problem.file);
    const line = text === undefined ? undefined : lineOfPath(text, problem.path);
    return line === undefined ? problem : { ...problem, line };
  });
}

export function lineOfPath(text: string, path: string): number | undefined {
  const segments = [...path.matchAll(/([A-Za-z_$][\w$-]*)|\["([^"]+)"\]|\[(\d+)\]/g)].map((match) => (match[3] === undefined ? (match[1] ?? match[2] ?? '') : Number(match[3])));
  // A service file's own keys are not nested under `services.<name>`.
  const candidates = segments[0] === 'services' ? [segments, segments.slice(2)] : [segments];
  for (const candidate of candidates) {
    let offset = 0;
    let found: number | undefined;
    // After `[n]`, the next key is looked for in the n+1-th item: its n+1-th occurrence.
    let skip = 0;
    for (const segment of candidate) {
      if (typeof segment === 'number') {
        skip = segment;
        continue;
      }
      const at = findKey(text, segment, offset, skip);
      skip = 0;
      if (at === undefined) continue;
      found = at;
      offset = at;
    }
    if (found !== undefined) return text.slice(0, found).split('\n').length;
  }
  return undefined;
}

function findKey(text: string, key: string, from: number, skip: number): number | undefined {
  const pattern = new RegExp(`(^|[\\s{,(])(['"\`]?)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\2\\s*:`, 'gm');
  pattern.lastIndex = from;
  let match: RegExpExecArray | null = null;
  for (let n = 0; n <= skip; n++) {
    match = pattern.exec(text);
    if (match === null) return undefined;
  }
  return match === null ? undefined : match.index + (match[1]?.length ?? 0);
}
