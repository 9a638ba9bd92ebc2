import type { ConfigSpec } from '../model/config.js';
import type { MergedService, ServiceLayer } from './layers.js';
import type { ResolvedPort, ResolvedRoute, ResolvedService } from './model.js';

/**
 * Resolved services reused between resolutions of states that share most of their inputs: a push
 * that changes one service file of 1000 resolves that service (and those that read it), not 1000.
 *
 * Inputs are compared by identity. The loader hands out the same value object for a file whose
 * content did not change (the evaluation cache is keyed by blob id), validation then hands out the
 * same spec (see `schema-errors.ts`), and so an unchanged service has the very same layers. A
 * service's result is reused only when its own layers, its image tag and every other service it
 * looked up while resolving (recorded by `TrackedMap`) are the same as when it was resolved, under
 * an equal validated config: anything else is resolved afresh. Only resolutions that found no
 * problem are remembered, so a reused service never hides one. Values are immutable, so a reused
 * result is equal to what resolving again would give.
 */

/** What a service of one resolution was made from, as a comparable key (identity of its layers). */
export type InputKey = string;

/** One service's result and what it depended on. */
export interface MemoEntry {
  readonly key: InputKey;
  readonly imageTag: string;
  readonly merged: MergedService;
  readonly dockerfile: string | undefined;
  readonly ports: readonly ResolvedPort[];
  readonly routes: readonly ResolvedRoute[];
  readonly resolved: ResolvedService;
  /** Other services looked up, with their input key then (undefined: absent or invalid). */
  readonly reads: ReadonlyMap<string, InputKey | undefined>;
  /** Names looked up in the set of invalid services, with the answer then. */
  readonly invalidReads: ReadonlyMap<string, boolean>;
}

/** Results of one config, environment and address mode: the latest entry per service. */
export type MemoBucket = Map<string, MemoEntry>;

const ids = new WeakMap<object, number>();
let nextId = 1;

/** A number per object, stable while the object lives: identity as a string part. */
function idOf(value: object | undefined): string {
  if (value === undefined) return '-';
  let id = ids.get(value);
  if (id === undefined) {
    id = nextId++;
    ids.set(value, id);
  }
  return String(id);
}

/** The key of a service's own inputs: its layers (by identity) and their files. */
export function inputKey(layers: { readonly repo?: ServiceLayer; readonly ops?: ServiceLayer } | undefined): InputKey {
  const part = (layer: ServiceLayer | undefined) => (layer === undefined ? '-' : `${idOf(layer.spec)}:${layer.file}:${layer.repo ?? ''}`);
  return `${part(layers?.repo)}|${part(layers?.ops)}`;
}

/**
 * Buckets by validated config (its content: a preview's config is made anew for every state),
 * config file, environment and address mode. A few are kept, the least recently used dropped
 * first: each holds one resolution of its environment (about 10 MiB at 1000 services), and a
 * controller goes back and forth between a handful of environments.
 */
const MAX_BUCKETS = 8;
const buckets = new Map<string, MemoBucket>();

export function memoBucket(config: ConfigSpec, configFile: string, environment: string, addressPorts: string): MemoBucket {
  const name = JSON.stringify([configFile, environment, addressPorts, config]);
  let bucket = buckets.get(name);
  if (bucket === undefined) bucket = new Map();
  else buckets.delete(name);
  buckets.set(name, bucket);
  while (buckets.size > MAX_BUCKETS) buckets.delete(buckets.keys().next().value!);
  return bucket;
}

/** Whether an entry still holds: same own inputs, same tag, and every service it read unchanged. */
export function entryHolds(
  entry: MemoEntry | undefined,
  key: InputKey,
  imageTag: string,
  keyOf: (name: string) => InputKey | undefined,
  isInvalid: (name: string) => boolean,
): entry is MemoEntry {
  if (entry === undefined || entry.key !== key || entry.imageTag !== imageTag) return false;
  for (const [name, read] of entry.reads) if (keyOf(name) !== read) return false;
  for (const [name, was] of entry.invalidReads) if (isInvalid(name) !== was) return false;
  return true;
}

/**
 * A read-only map that records the keys looked up in it; any listing of it counts as reading
 * everything (`all`), and such a result is never reused.
 */
export class TrackedMap<V> implements ReadonlyMap<string, V> {
  all = false;

  constructor(
    private readonly inner: ReadonlyMap<string, V>,
    private readonly reads: Set<string>,
  ) {}

  get(key: string): V | undefined {
    this.reads.add(key);
    return this.inner.get(key);
  }

  has(key: string): boolean {
    this.reads.add(key);
    return this.inner.has(key);
  }

  get size(): number {
    this.all = true;
    return this.inner.size;
  }

  keys(): MapIterator<string> {
    this.all = true;
    return this.inner.keys();
  }

  values(): MapIterator<V> {
    this.all = true;
    return this.inner.values();
  }

  entries(): MapIterator<[string, V]> {
    this.all = true;
    return this.inner.entries();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    this.all = true;
    this.inner.forEach((value, key) => callback(value, key, this));
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }
}

/** A read-only set that records the names looked up in it; listing it counts as reading all. */
export class TrackedSet implements ReadonlySet<string> {
  all = false;

  constructor(
    private readonly inner: ReadonlySet<string>,
    readonly reads: Map<string, boolean>,
  ) {}

  has(value: string): boolean {
    const answer = this.inner.has(value);
    this.reads.set(value, answer);
    return answer;
  }

  get size(): number {
    this.all = true;
    return this.inner.size;
  }

  keys(): SetIterator<string> {
    this.all = true;
    return this.inner.keys();
  }

  values(): SetIterator<string> {
    this.all = true;
    return this.inner.values();
  }

  entries(): SetIterator<[string, string]> {
    this.all = true;
    return this.inner.entries();
  }

  forEach(callback: (value: string, value2: string, set: ReadonlySet<string>) => void): void {
    this.all = true;
    this.inner.forEach((value) => callback(value, value, this));
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.values();
  }
}
