import { posix } from 'node:path';
import { ConfigError, UserError, type ConfigProblem } from '../errors.js';
import { resolveApp } from '../resolve/index.js';
import { own } from '../resolve/own.js';
import type { ResolvedApp, ResolvedService } from '../resolve/model.js';
import type { AppSources } from '../resolve/sources.js';
import { referencedSecrets, secretsDirOf, secretVersions } from '../secrets/versions.js';
import { contentTag } from './content-tag.js';
import type { AppState, ImageBuild } from './types.js';

/** One environment of one state, resolved with content tags, or why it could not be. */
export type ResolvedState =
  | {
      readonly ok: true;
      readonly app: ResolvedApp;
      readonly builds: ReadonlyMap<string, ImageBuild>;
      /** What each service's deployment depends on; computed when asked (see `sameFingerprint`). */
      readonly fingerprints: ReadonlyMap<string, string>;
    }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** A preview environment to add to the config before resolving: the base's settings, its own namespace. */
export interface PreviewEnvironment {
  readonly name: string;
  readonly namespace: string;
  readonly base: string;
}

/**
 * Results by state object: a push resolves the same loaded state for the plan and again for the
 * deploy, and at 1000 services each resolution costs a few hundred ms. States are immutable
 * values, so the memo changes no answer; it goes with the state.
 */
const resolved = new WeakMap<AppState, Map<string, ResolvedState>>();

/** Resolves `environment` of a state; built images get their content tags. */
export function resolveState(state: AppState, environment: string, preview?: PreviewEnvironment): ResolvedState {
  const key = JSON.stringify([environment, preview?.name ?? null, preview?.namespace ?? null, preview?.base ?? null]);
  let byKey = resolved.get(state);
  if (byKey === undefined) {
    byKey = new Map();
    resolved.set(state, byKey);
  }
  let result = byKey.get(key);
  if (result === undefined) {
    result = resolveUncached(state, environment, preview);
    byKey.set(key, result);
  }
  return result;
}

function resolveUncached(state: AppState, environment: string, preview?: PreviewEnvironment): ResolvedState {
  if (state.problems.length > 0) return { ok: false, problems: state.problems };
  const sources = preview === undefined ? state.sources : withPreviewEnvironment(state.sources, preview);
  const first = attempt(sources, () => resolveApp(sources, { environment }));
  if (!first.ok) return first;
  const problems: ConfigProblem[] = [];
  const tags: Record<string, string> = {};
  const commits: Record<string, string> = {};
  for (const service of first.value.services) {
    if (service.image.kind !== 'build') continue;
    const repo = own(state.repos, service.image.repo);
    const file = service.sources.at(-1) ?? sources.config.file;
    if (repo === undefined) {
      problems.push({ file, path: `services.${service.name}.build.repo`, message: `repo "${service.image.repo}" could not be read, so its image cannot be built` });
      continue;
    }
    const tag = contentTag(service.image, repo);
    if ('missing' in tag) {
      problems.push({ file, path: `services.${service.name}.build`, message: `${tag.missing.join(' and ')} ${tag.missing.length === 1 ? 'does' : 'do'} not exist in repo "${service.image.repo}" at ${repo.commit.slice(0, 12)}` });
      continue;
    }
    tags[service.name] = tag.tag;
    commits[service.name] = repo.commit;
  }
  if (problems.length > 0) return { ok: false, problems };
  // Without images to build there are no tags to fill in: the first resolution is the final one.
  const second = Object.keys(tags).length === 0 ? first : attempt(sources, () => resolveApp(sources, { environment, imageTags: tags }));
  if (!second.ok) return second;
  const app = second.value;
  const builds = new Map<string, ImageBuild>();
  const appPart = appFingerprint(app);
  const secretsDir = secretsDirOf(sources.config.value);
  // A secret file changed in git changes the services that use it (by object id, never by value).
  // Without a secret file in git there is nothing to find: no need to look through each service.
  const secretsPrefix = `${posix.normalize(secretsDir).replace(/\/+$/, '')}/`;
  const opsObjects = state.repos.ops?.objects;
  const anySecretFile = opsObjects !== undefined && [...opsObjects.keys()].some((path) => path.startsWith(secretsPrefix));
  const secretPart = (service: ResolvedService) => (anySecretFile ? secretVersions(opsObjects, secretsDir, preview?.base ?? environment, secretsOf(service)) : '');
  const fingerprints = new Fingerprints(app.services, appPart, (service) => serviceFingerprint(appPart, service) + secretPart(service), secretPart);
  for (const service of app.services) {
    const image = service.image;
    const tag = tags[service.name];
    const commit = commits[service.name];
    if (image.kind !== 'build' || tag === undefined || commit === undefined) continue;
    builds.set(service.name, {
      service: service.name,
      repo: image.repo,
      commit,
      context: image.context,
      dockerfile: image.dockerfile,
      inlineDockerfile: image.inlineDockerfile !== undefined,
      args: image.args,
      ...(image.target === undefined ? {} : { target: image.target }),
      tag,
      ref: image.ref,
    });
  }
  return { ok: true, app, builds, fingerprints };
}

/**
 * Fingerprints by service name, each made when first asked for: a plan compares two states, and
 * a service the resolver reused (the same resolved value in both, see resolve/memo.ts) is equal
 * without serializing it; only services whose values differ are serialized and compared.
 */
class Fingerprints implements ReadonlyMap<string, string> {
  private readonly made = new Map<string, string>();
  readonly services: ReadonlyMap<string, ResolvedService>;

  constructor(
    services: readonly ResolvedService[],
    readonly appPart: string,
    private readonly make: (service: ResolvedService) => string,
    readonly secretPart: (service: ResolvedService) => string,
  ) {
    this.services = new Map(services.map((service) => [service.name, service]));
  }

  get(name: string): string | undefined {
    let print = this.made.get(name);
    if (print === undefined) {
      const service = this.services.get(name);
      if (service === undefined) return undefined;
      print = this.make(service);
      this.made.set(name, print);
    }
    return print;
  }

  has(name: string): boolean {
    return this.services.has(name);
  }

  get size(): number {
    return this.services.size;
  }

  keys(): MapIterator<string> {
    return this.services.keys();
  }

  *entries(): MapIterator<[string, string]> {
    for (const name of this.services.keys()) yield [name, this.get(name)!];
  }

  *values(): MapIterator<string> {
    for (const name of this.services.keys()) yield this.get(name)!;
  }

  forEach(callback: (value: string, key: string, map: ReadonlyMap<string, string>) => void): void {
    for (const [name, print] of this.entries()) callback(print, name, this);
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }
}

/** The secrets a service reads, found once per resolved value. */
function secretsOf(service: ResolvedService): ReadonlySet<string> {
  let names = secretNames.get(service);
  if (names === undefined) {
    names = referencedSecrets(service);
    secretNames.set(service, names);
  }
  return names;
}
const secretNames = new WeakMap<ResolvedService, ReadonlySet<string>>();

/** Whether a service has the same fingerprint in two resolved states (false when one lacks it). */
export function sameFingerprint(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>, name: string): boolean {
  if (a instanceof Fingerprints && b instanceof Fingerprints) {
    const service = a.services.get(name);
    if (service === undefined || b.services.get(name) === undefined) return false;
    // The same resolved value under equal environment-wide settings: equal, whatever it contains.
    if (service === b.services.get(name) && a.appPart === b.appPart) return a.secretPart(service) === b.secretPart(service);
  }
  const print = a.get(name);
  return print !== undefined && print === b.get(name);
}

/**
 * What a service's deployment depends on: the resolved service itself (with its image ref, so a
 * new content tag counts) and the environment-wide settings every backend reads. Two equal
 * fingerprints render the same objects.
 */
export function fingerprint(app: ResolvedApp, service: ResolvedService): string {
  return serviceFingerprint(appFingerprint(app), service);
}

/** The environment-wide part of every fingerprint of `app`, serialized once for all its services. */
function appFingerprint(app: ResolvedApp): string {
  const { services: _services, ...shared } = app;
  return stableStringify(shared);
}

/** Equal to `stableStringify({ app, service })`: keys sorted, so `app` comes first. */
function serviceFingerprint(appPart: string, service: ResolvedService): string {
  let text = serviceTexts.get(service);
  if (text === undefined) {
    text = stableStringify(service);
    serviceTexts.set(service, text);
  }
  return `{"app":${appPart},"service":${text}}`;
}

/** A resolved service reused from an earlier resolution (see resolve/memo.ts) is serialized once. */
const serviceTexts = new WeakMap<ResolvedService, string>();

/**
 * `JSON.stringify` with every object's keys sorted. Written out rather than as a replacer, which
 * copied every object to sort it and was a third of planning 1000 services.
 */
export function stableStringify(value: unknown): string {
  return stringifySorted(value) as string;
}

function stringifySorted(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'bigint':
      return JSON.stringify(value); // throws, as JSON.stringify does
    case 'object': {
      const json = (value as { toJSON?: unknown }).toJSON;
      if (typeof json === 'function') return stringifySorted((json as () => unknown).call(value));
      if (Array.isArray(value)) return `[${value.map((item: unknown) => stringifySorted(item) ?? 'null').join(',')}]`;
      const record = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const item = stringifySorted(record[key]);
        if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return undefined;
  }
}

/** Adds a preview environment to the config as written: the base's settings, minus its namespace and domain. */
export function withPreviewEnvironment(sources: AppSources, preview: PreviewEnvironment): AppSources {
  const value = sources.config.value;
  if (typeof value !== 'object' || value === null) return sources;
  const environments = (value as { environments?: unknown }).environments;
  if (typeof environments !== 'object' || environments === null) return sources;
  const base = own(environments as Record<string, unknown>, preview.base);
  const { namespace: _namespace, domain: _domain, ...settings } = typeof base === 'object' && base !== null ? (base as Record<string, unknown>) : {};
  const patched = { ...value, environments: { ...environments, [preview.name]: { ...settings, namespace: preview.namespace } } };
  return { ...sources, config: { ...sources.config, value: patched } };
}

function attempt<T>(sources: AppSources, run: () => T): { ok: true; value: T } | { ok: false; problems: readonly ConfigProblem[] } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, problems: error.problems };
    if (error instanceof UserError) return { ok: false, problems: [{ file: sources.config.file, path: '', message: error.message }] };
    throw error;
  }
}
