/**
 * Seeded mutations of valid configs and service files, for the fuzz suite. Each mutation is a
 * small, describable change of one kind that users (or attackers) can write: a wrong type, a
 * hostile name or key, a huge string, deep nesting, a cycle, an `extends` bomb, a template
 * made to make a parser backtrack.
 */

/** mulberry32: a small, fast, seeded generator; the same seed gives the same mutations. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Path = ReadonlyArray<string | number>;

const HOSTILE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'prototype',
  '9lives',
  'API',
  'a--b',
  '123',
  '',
  ' ',
  '-',
  '../../etc/passwd',
  '/etc/../x',
  'a:b',
  'x'.repeat(64),
  'x'.repeat(300),
  'ünïcödé',
  'a\u0000b',
  '\u001b[2Jcleared',
  '{{',
  `{{${' '.repeat(4000)}`,
  '{{ shared.constructor }}',
  '{{ services.__proto__.url }}',
  '{{ env.toString }}',
  '{{ secrets.Bad_Name.key }}',
  '{{ secrets.a.b.c }}',
  '500m..100m',
  '1Gi..',
  '..',
  '/',
  '*.',
  '$(rm -rf /)',
  '"; drop table',
];

const WRONG_VALUES: readonly unknown[] = [0, -1, 1.5, 1e308, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53 + 1, 3_000_000_000, '', 'x', true, false, null, [], {}, [1, 'a'], { a: 1 }, { $shared: 'constructor' }, { $secret: { name: 'Bad_Name', key: 'k' } }, { $ref: '__proto__' }];

export interface Mutation {
  readonly description: string;
  apply(config: Record<string, unknown>, services: unknown[]): void;
}

/** Paths to every value of a document, objects and lists included; the root is `[]`. */
export function paths(value: unknown, limit = 12): Path[] {
  const found: Path[] = [];
  const visit = (current: unknown, path: Path) => {
    found.push(path);
    if (path.length >= limit || typeof current !== 'object' || current === null) return;
    for (const key of Object.keys(current)) visit((current as Record<string, unknown>)[key], [...path, Array.isArray(current) ? Number(key) : key]);
  };
  visit(value, []);
  return found;
}

function get(root: unknown, path: Path): unknown {
  let current = root;
  for (const key of path) current = (current as Record<string | number, unknown>)[key];
  return current;
}

function set(root: unknown, path: Path, value: unknown): void {
  const parent = get(root, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path.at(-1) as string | number;
  // defineProperty, so that even `__proto__` becomes an own key, as JSON.parse would make it.
  Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
}

function nested(depth: number, list: boolean): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = list ? [value] : { a: value };
  return value;
}

/** One random mutation of one of the documents (the config is document 0). */
export function mutation(next: () => number): Mutation {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const kind = pick(['wrong-type', 'hostile-string', 'hostile-key', 'rename-key', 'huge-string', 'deep-nesting', 'delete', 'duplicate-service', 'extends-bomb', 'cycle', 'hostile-template'] as const);
  const target = (config: Record<string, unknown>, services: unknown[]) => {
    const index = Math.floor(next() * (services.length + 1));
    return { index, root: index === 0 ? config : services[index - 1], where: index === 0 ? 'config' : `service file ${index}` };
  };
  const somePath = (root: unknown, filter: (value: unknown) => boolean) => {
    const candidates = paths(root).filter((path) => path.length > 0 && filter(get(root, path)));
    return candidates.length === 0 ? undefined : pick(candidates);
  };
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  const name = pick(HOSTILE_NAMES);
  const wrong = pick(WRONG_VALUES);
  const description = (where: string, what: string) => `${kind} in ${where}: ${what}`;
  const huge = next() < 0.5 ? 'a'.repeat(1_500_000) : `{{${' '.repeat(1_500_000)}`;
  const depth = 2000 + Math.floor(next() * 8000);
  const list = next() < 0.5;
  const roll = next();
  let text = kind as string;
  return {
    get description() {
      return text;
    },
    apply(config, services) {
      const { root, where, index } = target(config, services);
      switch (kind) {
        case 'wrong-type': {
          const path = somePath(root, () => true);
          if (path) set(root, path, wrong);
          text = description(where, `${JSON.stringify(path)} = ${String(JSON.stringify(wrong))}`);
          return;
        }
        case 'hostile-string': {
          const path = somePath(root, (value) => typeof value === 'string');
          if (path) set(root, path, name);
          text = description(where, `${JSON.stringify(path)} = ${JSON.stringify(name.slice(0, 40))}`);
          return;
        }
        case 'hostile-key': {
          const path = somePath(root, isObject) ?? [];
          const parent = get(root, path) as Record<string, unknown>;
          const sibling = Object.values(parent)[0];
          set(root, [...path, name], roll < 0.5 ? sibling : wrong);
          text = description(where, `add key ${JSON.stringify(name.slice(0, 40))} under ${JSON.stringify(path)}`);
          return;
        }
        case 'rename-key': {
          const path = somePath(root, () => true);
          if (path === undefined || typeof path.at(-1) !== 'string') return;
          const parent = get(root, path.slice(0, -1)) as Record<string, unknown>;
          const value = parent[path.at(-1) as string];
          delete parent[path.at(-1) as string];
          set(root, [...path.slice(0, -1), name], value);
          text = description(where, `rename ${JSON.stringify(path)} to ${JSON.stringify(name.slice(0, 40))}`);
          return;
        }
        case 'huge-string': {
          const path = somePath(root, (value) => typeof value === 'string');
          if (path) set(root, path, huge);
          text = description(where, `${JSON.stringify(path)} = ${huge.length} characters`);
          return;
        }
        case 'deep-nesting': {
          const path = somePath(root, () => true);
          if (path) set(root, path, nested(depth, list));
          text = description(where, `${JSON.stringify(path)} = ${list ? 'lists' : 'objects'} nested ${depth} deep`);
          return;
        }
        case 'delete': {
          const path = somePath(root, () => true);
          if (path) delete (get(root, path.slice(0, -1)) as Record<string | number, unknown>)[path.at(-1) as string | number];
          text = description(where, `delete ${JSON.stringify(path)}`);
          return;
        }
        case 'duplicate-service': {
          if (services.length > 0) services.push(structuredClone(services[Math.floor(roll * services.length)]));
          text = `duplicate-service: ${services.length} service files`;
          return;
        }
        case 'extends-bomb': {
          const fragments: Record<string, unknown> = { f0: { labels: { bomb: 'yes' } } };
          for (let i = 1; i < 30; i++) fragments[`f${i}`] = { extends: [`f${i - 1}`, `f${i - 1}`] };
          config.fragments = { ...(isObject(config.fragments) ? (config.fragments as object) : {}), ...fragments };
          const service = services[0];
          if (isObject(service)) (service as Record<string, unknown>).extends = ['f29', 'f29'];
          text = 'extends-bomb: 30 fragments, each extending the previous one twice';
          return;
        }
        case 'cycle': {
          const path = somePath(root, isObject) ?? [];
          const parent = get(root, path) as Record<string, unknown>;
          parent.self = parent;
          text = description(where, `${JSON.stringify(path)}.self refers to itself`);
          return;
        }
        case 'hostile-template': {
          const service = index === 0 ? services[0] : root;
          if (!isObject(service)) return;
          (service as Record<string, unknown>).files = { '/etc/app.conf': name, '/etc/other.conf': `${'{{ a }'.repeat(20_000)}` };
          text = `hostile-template: files = ${JSON.stringify(name.slice(0, 40))}`;
          return;
        }
      }
    },
  };
}
