import type { ConfigProblem } from '../errors.js';

/** Collects problems with their file, so resolution can go on and report them all at once. */
export class Problems {
  readonly list: ConfigProblem[] = [];

  add(file: string, path: string, message: string): void {
    this.list.push({ file, path, message });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** Formats path segments: `['ports', 0, 'port']` -> `ports[0].port`; odd keys are quoted. */
export function formatPath(segments: ReadonlyArray<PropertyKey>): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(String(segment))}]`;
  }
  return path;
}

/** `services.api` + `ports[0]` -> `services.api.ports[0]`. */
export function joinPath(prefix: string, ...segments: ReadonlyArray<PropertyKey>): string {
  const rest = formatPath(segments);
  if (prefix === '') return rest;
  if (rest === '') return prefix;
  return rest.startsWith('[') ? prefix + rest : `${prefix}.${rest}`;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof RegExp) return String(value);
  return 'an object';
}
