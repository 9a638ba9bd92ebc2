import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { checkForbiddenKeys } from './forbidden-keys.js';
import { describeValue, joinPath, type Problems } from './problems.js';

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

/**
 * Valid documents by value: the loader hands out the same value for a file whose content did not
 * change, so a state that differs from the last one in one file validates that file only, and
 * the result (the same spec object) lets the resolver reuse what it resolved from it. Documents
 * are never changed once loaded; the entry goes with its value.
 */
const validated = new WeakMap<object, Array<{ readonly schema: AnySchema; readonly file: string; readonly prefix: string; readonly data: unknown }>>();

/**
 * Validates one document against a schema and turns every zod issue into a problem that names
 * the file, the path, the bad value and what was expected, with a "did you mean" for typos.
 */
export function validateDocument<S extends AnySchema>(
  schema: S,
  value: unknown,
  file: string,
  prefix: string,
  problems: Problems,
): z.core.output<S> | undefined {
  const known = typeof value === 'object' && value !== null ? validated.get(value)?.find((entry) => entry.schema === schema && entry.file === file && entry.prefix === prefix) : undefined;
  if (known !== undefined) return known.data as z.core.output<S>;
  if (!checkForbiddenKeys(value, file, prefix, problems)) return undefined;
  const result = (schema as unknown as z.ZodType).safeParse(value, { reportInput: true });
  if (result.success) {
    if (typeof value === 'object' && value !== null) validated.set(value, [...(validated.get(value) ?? []).slice(-3), { schema, file, prefix, data: result.data }]);
    return result.data as z.core.output<S>;
  }
  for (const issue of result.error.issues) {
    for (const found of explain(issue, [], { schema, at: [] }, value)) problems.add(file, joinPath(prefix, ...found.path), found.message);
  }
  return undefined;
}

/** The schema issues are explained against: the root, or the union branch the value was meant for. */
interface Scope {
  readonly schema: AnySchema;
  /** Path of `schema` from the document's root. */
  readonly at: readonly PropertyKey[];
}

interface Explained {
  readonly path: PropertyKey[];
  readonly message: string;
}

function explain(issue: Issue, base: PropertyKey[], scope: Scope, rootValue: unknown): Explained[] {
  const path = [...base, ...issue.path];
  const input = 'input' in issue ? issue.input : valueAt(rootValue, path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownKeyMessage(key, knownKeys(scope.schema, path.slice(scope.at.length))) }));
    case 'invalid_union':
      return explainUnion(issue, path, scope, rootValue);
    case 'invalid_key': {
      // The key itself is wrong: explain it as a value, the key being what was found.
      const key = path.at(-1);
      return issue.issues.map((inner) => ({ path, message: `${keyMessage(inner)}, got ${describeValue(key)}` }));
    }
    case 'invalid_type':
      if (input === undefined) return [{ path, message: `is required (expected ${article(issue.expected)})` }];
      return [{ path, message: `expected ${article(issue.expected)}, got ${describeValue(input)}` }];
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      const guess = typeof input === 'string' ? suggestion(input, issue.values.filter((v): v is string => typeof v === 'string')) : '';
      return [{ path, message: `expected ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`}, got ${describeValue(input)}${guess}` }];
    }
    case 'too_small':
      return [{ path, message: `expected ${issue.origin === 'array' ? `at least ${issue.minimum} item(s)` : issue.origin === 'string' ? `at least ${issue.minimum} character(s)` : `at least ${issue.minimum}`}, got ${describeValue(input)}` }];
    case 'too_big':
      return [{ path, message: `expected ${issue.origin === 'array' ? `at most ${issue.maximum} item(s)` : issue.origin === 'string' ? `at most ${issue.maximum} characters` : `at most ${issue.maximum}`}, got ${describeValue(input)}` }];
    case 'invalid_format': {
      const expected = issue.message.startsWith('Invalid') ? expectedFormat(issue) : issue.message;
      return [{ path, message: `expected ${expected}, got ${describeValue(input)}` }];
    }
    default: {
      // A refined primitive (a name, a number) is shown; a refined object speaks for itself.
      const got = typeof input === 'string' || typeof input === 'number' ? `, got ${describeValue(input)}` : '';
      return [{ path, message: issue.message.startsWith('Invalid') ? `${issue.message.toLowerCase()}, got ${describeValue(input)}` : `expected ${issue.message}${got}` }];
    }
  }
}

/**
 * Picks the union branch the value was evidently meant for: of the branches whose type fits,
 * the one that knows most of the value's keys (`{ grpc, initialDelaySeconds }` is a probe with
 * one unknown key, not a `{ readiness, liveness }` with two), then the one that got deepest.
 * Unknown keys are then suggested from that branch alone. Otherwise lists what would do.
 */
function explainUnion(issue: Extract<Issue, { code: 'invalid_union' }>, path: PropertyKey[], scope: Scope, rootValue: unknown): Explained[] {
  const branches = issue.errors;
  const options = unionOptions(scope, path, branches.length);
  const candidates = branches.map((branch, index) => ({ branch, index })).filter(({ branch }) => !branch.some((inner) => inner.path.length === 0 && (inner.code === 'invalid_type' || inner.code === 'invalid_union')));
  if (candidates.length > 0) {
    const better = (a: (typeof candidates)[number], b: (typeof candidates)[number]) => {
      const unknownA = unknownKeyCount(a.branch);
      const unknownB = unknownKeyCount(b.branch);
      if (unknownA !== unknownB) return unknownB < unknownA ? b : a;
      return depth(b.branch) > depth(a.branch) || (depth(b.branch) === depth(a.branch) && b.branch.length < a.branch.length) ? b : a;
    };
    const best = candidates.reduce(better);
    const option = options?.[best.index];
    const inner = option === undefined ? scope : { schema: option, at: path };
    return best.branch.flatMap((found) => explain(found, path, inner, rootValue));
  }
  const expected = [...new Set(branches.flatMap((branch) => branch.filter((inner) => inner.code === 'invalid_type').map((inner) => article((inner as { expected: string }).expected))))];
  const input = valueAt(rootValue, path);
  if (input === undefined) return [{ path, message: `is required (expected ${expected.join(' or ')})` }];
  return [{ path, message: `expected ${expected.length > 0 ? expected.join(' or ') : 'a different value'}, got ${describeValue(input)}` }];
}

/** Keys a branch did not know, at the branch's own level. */
function unknownKeyCount(branch: readonly Issue[]): number {
  return branch.reduce((count, inner) => count + (inner.code === 'unrecognized_keys' && inner.path.length === 0 ? inner.keys.length : 0), 0);
}

/** The options of the union found at `path`, when exactly one union there has `count` options. */
function unionOptions(scope: Scope, path: readonly PropertyKey[], count: number): AnySchema[] | undefined {
  let candidates: AnySchema[] = [scope.schema];
  for (const segment of path.slice(scope.at.length)) candidates = candidates.flatMap((candidate) => unwrap(candidate)).flatMap((candidate) => child(candidate, segment));
  const unions = candidates.map(unwrapToUnion).filter((options): options is AnySchema[] => options !== undefined && options.length === count);
  return unions.length === 1 ? unions[0] : undefined;
}

function unwrapToUnion(schema: AnySchema): AnySchema[] | undefined {
  const def = schema._zod.def as unknown as Record<string, AnySchema | AnySchema[]> & { type: string };
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
    case 'readonly':
      return unwrapToUnion(def.innerType as AnySchema);
    case 'union':
      return def.options as AnySchema[];
    default:
      return undefined;
  }
}

function keyMessage(issue: Issue): string {
  if (issue.code === 'invalid_format' || issue.code === 'custom') return `expected a key that is ${issue.message}`;
  return `expected a different key: ${issue.message}`;
}

function depth(branch: readonly Issue[]): number {
  return Math.max(...branch.map((inner) => inner.path.length));
}

function expectedFormat(issue: Issue): string {
  if ('format' in issue && issue.format === 'starts_with' && 'prefix' in issue) return `a value starting with ${JSON.stringify(issue.prefix)}`;
  if ('format' in issue && issue.format === 'url') return 'a URL';
  if ('format' in issue && issue.format === 'regex' && 'pattern' in issue) return `a value matching ${String(issue.pattern)}`;
  return 'a different format';
}

function article(type: string): string {
  const names: Record<string, string> = { object: 'an object', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false', int: 'a whole number' };
  return names[type] ?? type;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  return `unknown key ${JSON.stringify(key)}${suggestion(key, known)}`;
}

/** ` (did you mean "image"?)` when a known name is close enough to be a typo. */
export function suggestion(word: string, candidates: readonly string[]): string {
  if (candidates.length === 0) return '';
  // A known name plus a suffix from another tool (`initialDelaySeconds` for `initialDelay`).
  const stem = candidates.filter((candidate) => candidate.length >= 4 && word.toLowerCase().startsWith(candidate.toLowerCase())).sort((a, b) => b.length - a.length)[0];
  if (stem !== undefined) return ` (did you mean ${JSON.stringify(stem)}?)`;
  const best = closest(word, candidates as string[]);
  const limit = Math.max(2, Math.floor(best.length / 3));
  return distance(word, best) <= limit ? ` (did you mean ${JSON.stringify(best)}?)` : '';
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** Keys the schema accepts at a path, found by walking the schema alongside the value. */
function knownKeys(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  let candidates: AnySchema[] = [schema];
  for (const segment of path) candidates = candidates.flatMap((candidate) => unwrap(candidate)).flatMap((candidate) => child(candidate, segment));
  return [...new Set(candidates.flatMap(unwrap).flatMap((candidate) => (candidate._zod.def.type === 'object' ? Object.keys((candidate._zod.def as unknown as { shape: object }).shape) : [])))];
}

function unwrap(schema: AnySchema): AnySchema[] {
  const def = schema._zod.def as unknown as Record<string, AnySchema | AnySchema[]> & { type: string };
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
    case 'readonly':
      return unwrap(def.innerType as AnySchema);
    case 'pipe':
      return unwrap(def.in as AnySchema);
    case 'union':
      return (def.options as AnySchema[]).flatMap(unwrap);
    case 'lazy':
      return unwrap((def as unknown as { getter: () => AnySchema }).getter());
    default:
      return [schema];
  }
}

function child(schema: AnySchema, segment: PropertyKey): AnySchema[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  if (def.type === 'object') {
    const shape = def.shape as Record<string, AnySchema>;
    return typeof segment === 'string' && shape[segment] ? [shape[segment]] : [];
  }
  if (def.type === 'record') return [def.valueType as AnySchema];
  if (def.type === 'array') return [def.element as AnySchema];
  return [];
}

