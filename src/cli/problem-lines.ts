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
  const keys = [...path.matchAll(/([A-Za-z_$][\w$-]*)|\["([^"]+)"\]/g)].map((match) => match[1] ?? match[2] ?? '');
  // A service file's own keys are not nested under `services.<name>`.
  const candidates = keys[0] === 'services' ? [keys, keys.slice(2)] : [keys];
  for (const candidate of candidates) {
    let offset = 0;
    let found: number | undefined;
    for (const key of candidate) {
      const pattern = new RegExp(`(^|[\\s{,(])(['"\`]?)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\2\\s*:`, 'm');
      const match = pattern.exec(text.slice(offset));
      if (match === null) continue;
      found = offset + match.index + match[1]!.length;
      offset = found;
    }
    if (found !== undefined && candidate.length > 0) return text.slice(0, found).split('\n').length;
  }
  return undefined;
}
