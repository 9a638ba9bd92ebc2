import { types } from 'node:util';

/** A value that is not plain data, with where it is. */
export class NotPlainData extends Error {
  override readonly name = 'NotPlainData';
  constructor(readonly path: string, readonly reason: string) {
    super(`${path === '' ? 'the default export' : path}: ${reason}`);
  }
}

export interface PlainDataLimits {
  /** Objects and arrays nested deeper than this are refused. */
  readonly maxDepth: number;
  /** Values (objects, arrays, primitives) in all. */
  readonly maxNodes: number;
}

export const DEFAULT_PLAIN_DATA_LIMITS: PlainDataLimits = { maxDepth: 64, maxNodes: 2_000_000 };

/** The prototypes a plain object or array may have, in the realm the value was made in. */
export interface Realm {
  readonly objectPrototype: object | null;
  readonly arrayPrototype: object;
}

/**
 * Copies a value made by untrusted code into fresh plain data, or throws `NotPlainData` naming the
 * path. It never runs the value's code: proxies are refused before any trap could run, accessors
 * are refused by their descriptor (never called), and only enumerable own string keys of objects
 * whose prototype is the realm's Object.prototype (or null) are read. `__proto__` keys are refused
 * (merging them would change prototypes); so are functions, symbols, non-finite numbers, class
 * instances, and cycles.
 */
export function toPlainData(value: unknown, realm: Realm, limits: PlainDataLimits = DEFAULT_PLAIN_DATA_LIMITS): unknown {
  let nodes = 0;
  const open = new Set<object>();
  const copy = (item: unknown, path: string, depth: number): unknown => {
    if (++nodes > limits.maxNodes) throw new NotPlainData(path, `more than ${limits.maxNodes} values in all`);
    switch (typeof item) {
      case 'string':
      case 'boolean':
        return item;
      case 'number':
        if (!Number.isFinite(item)) throw new NotPlainData(path, `${item} is not a finite number`);
        return item;
      case 'undefined':
        return undefined;
      case 'object':
        break;
      default:
        throw new NotPlainData(path, `a ${typeof item} is not plain data (only objects, arrays, strings, numbers, booleans and null)`);
    }
    if (item === null) return null;
    if (types.isProxy(item)) throw new NotPlainData(path, 'a Proxy is not plain data');
    if (depth > limits.maxDepth) throw new NotPlainData(path, `nested deeper than ${limits.maxDepth} levels`);
    if (open.has(item)) throw new NotPlainData(path, 'refers to itself (a cycle)');
    open.add(item);
    try {
      const prototype = Object.getPrototypeOf(item) as object | null;
      if (Array.isArray(item)) {
        if (prototype !== realm.arrayPrototype) throw new NotPlainData(path, 'an array of a special kind is not plain data');
        const length = (Object.getOwnPropertyDescriptor(item, 'length')?.value as number | undefined) ?? 0;
        const out: unknown[] = [];
        for (let index = 0; index < length; index++) {
          const descriptor = Object.getOwnPropertyDescriptor(item, index);
          if (descriptor === undefined) throw new NotPlainData(`${path}[${index}]`, 'a hole in an array');
          if (!('value' in descriptor)) throw new NotPlainData(`${path}[${index}]`, 'a getter is not plain data');
          out.push(copy(descriptor.value, `${path}[${index}]`, depth + 1));
        }
        return out;
      }
      if (prototype !== realm.objectPrototype && prototype !== null) {
        throw new NotPlainData(path, `${describeInstance(item)} is not plain data (only objects, arrays, strings, numbers, booleans and null)`);
      }
      const out: Record<string, unknown> = {};
      for (const key of Reflect.ownKeys(item)) {
        if (typeof key === 'symbol') continue;
        const descriptor = Object.getOwnPropertyDescriptor(item, key);
        if (descriptor === undefined || descriptor.enumerable !== true) continue;
        const childPath = path === '' ? key : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
        if (key === '__proto__') throw new NotPlainData(childPath, 'a key named "__proto__" is not allowed');
        if (!('value' in descriptor)) throw new NotPlainData(childPath, 'a getter is not plain data');
        const copied = copy(descriptor.value, childPath, depth + 1);
        if (copied !== undefined) out[key] = copied;
      }
      return out;
    } finally {
      open.delete(item);
    }
  };
  return copy(value, '', 0);
}

function describeInstance(item: object): string {
  if (types.isPromise(item)) return 'a Promise';
  if (types.isDate(item)) return 'a Date';
  if (types.isMap(item) || types.isSet(item)) return 'a Map or Set';
  if (types.isRegExp(item)) return 'a RegExp';
  return 'an instance of a class';
}
