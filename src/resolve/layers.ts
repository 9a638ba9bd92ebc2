import { configSchema, type ConfigSpec } from '../model/config.js';
import { serviceSchema, type ServicePatchSpec, type ServiceSpec } from '../model/service.js';
import type { FragmentExpander } from './fragments.js';
import { mergeLayers } from './merge.js';
import { hasOwn, own } from './own.js';
import { joinPath, Problems } from './problems.js';
import { suggestion, validateDocument } from './schema-errors.js';
import type { AppSources, SourceDocument } from './sources.js';

/** One file's say about a service. */
export interface ServiceLayer {
  readonly file: string;
  /** The repo whose own service file this is; undefined for the ops repo. */
  readonly repo?: string;
  readonly spec: ServiceSpec;
}

/** The validated inputs: config plus, per service, its repo layer and its ops layer. */
export interface ValidatedSources {
  readonly config: ConfigSpec;
  readonly configFile: string;
  readonly services: ReadonlyMap<string, { readonly repo?: ServiceLayer; readonly ops?: ServiceLayer }>;
  /** Services whose file failed validation: references to them are not reported a second time. */
  readonly invalid: ReadonlySet<string>;
}

/** A service merged for one environment, with the file that last set each top-level field. */
export interface MergedService {
  readonly name: string;
  readonly spec: ServicePatchSpec & { name: string };
  readonly origins: ReadonlyMap<string, string>;
  readonly repo?: string;
  readonly files: readonly string[];
}

/**
 * Validates an ops repo's service document ahead of `validateSources`, which then finds each
 * valid value's result remembered (see `validateDocument`): `render` runs this on each file while
 * the sandbox evaluates the next ones. Its problems are dropped here: an invalid value is not
 * remembered, so `validateSources` finds and reports it again.
 */
export function prevalidateServiceDocument(document: SourceDocument): void {
  const values = Array.isArray(document.value) ? document.value : [document.value];
  values.forEach((value, index) => validateDocument(serviceSchema, value, document.file, servicePrefix(document, value, index), new Problems()));
}

/** Where a service value's problems are located: `services.<name>`, or its index in a list. */
function servicePrefix(document: SourceDocument, value: unknown, index: number): string {
  const name = typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' ? (value as { name: string }).name : undefined;
  return name === undefined ? (Array.isArray(document.value) ? `[${index}]` : '') : joinPath('services', name);
}

export function validateSources(sources: AppSources, problems: Problems): ValidatedSources | undefined {
  const configFile = sources.config.file;
  const config = validateDocument(configSchema, sources.config.value, configFile, '', problems);
  const services = new Map<string, { repo?: ServiceLayer; ops?: ServiceLayer }>();
  const invalid = new Set<string>();
  for (const { document, origin } of sources.services) {
    const repo = origin.kind === 'repo' ? origin.repo : undefined;
    // Without a valid config nothing says what a repo may describe; the config's problems come first.
    const allowed = repo === undefined || config === undefined ? undefined : repoServices(config, repo);
    const values = Array.isArray(document.value) ? document.value : [document.value];
    values.forEach((value, index) => {
      const name = typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' ? (value as { name: string }).name : undefined;
      const prefix = servicePrefix(document, value, index);
      const spec = validateDocument(serviceSchema, value, document.file, prefix, problems);
      if (spec === undefined) {
        if (name !== undefined) invalid.add(name);
        return;
      }
      if (repo !== undefined && allowed !== undefined && !allowed.includes(spec.name)) {
        invalid.add(spec.name);
        const listed = config?.repos?.[repo]?.services !== undefined;
        const why = listed ? `repos.${repo}.services in ${configFile}` : `by default the service named like the repo; list others in repos.${repo}.services of ${configFile}`;
        problems.add(document.file, joinPath(prefix, 'name'), `repo "${repo}" may describe only ${allowed.map((name) => `"${name}"`).join(', ')} (${why}), not "${spec.name}"`);
        return;
      }
      const slot = origin.kind === 'ops' ? 'ops' : 'repo';
      const entry = services.get(spec.name) ?? {};
      const existing = entry[slot];
      if (existing !== undefined) {
        problems.add(document.file, joinPath(prefix, 'name'), `service "${spec.name}" is already defined in ${existing.file}`);
        return;
      }
      entry[slot] = origin.kind === 'ops' ? { file: document.file, spec } : { file: document.file, repo: origin.repo, spec };
      services.set(spec.name, entry);
    });
  }
  checkReferencesOfInvalid(sources, services, invalid, problems);
  if (config === undefined) return undefined;
  checkEnvironmentOverrides(config, configFile, services, problems);
  for (const name of services.keys()) invalid.delete(name);
  return { config, configFile, services, invalid };
}

/**
 * A file that fails validation is not resolved, but its `ref()`s to services that exist nowhere
 * are reported now, in the same run as its schema problems, not after they are fixed.
 */
function checkReferencesOfInvalid(sources: AppSources, services: ReadonlyMap<string, unknown>, invalid: ReadonlySet<string>, problems: Problems): void {
  const known = new Set([...services.keys(), ...invalid]);
  for (const { document } of sources.services) {
    const values = Array.isArray(document.value) ? document.value : [document.value];
    for (const value of values) {
      const name = typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' ? (value as { name: string }).name : undefined;
      if (name === undefined || !invalid.has(name) || services.has(name)) continue;
      const prefix = joinPath('services', name);
      for (const found of rawReferences(value, [])) {
        if (known.has(found.service)) continue;
        problems.add(document.file, joinPath(prefix, ...found.path), `refers to service "${found.service}", which does not exist${suggestion(found.service, [...known])}`);
      }
    }
  }
}

/** Every `{ $ref: 'name' }` inside a value that has not passed validation, with its path. */
function rawReferences(value: unknown, path: PropertyKey[], depth = 0): Array<{ service: string; path: PropertyKey[] }> {
  if (typeof value !== 'object' || value === null || depth > 32) return [];
  const ref = Object.hasOwn(value, '$ref') ? (value as { $ref: unknown }).$ref : undefined;
  if (typeof ref === 'string') return [{ service: ref, path }];
  const entries: Array<[PropertyKey, unknown]> = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  return entries.flatMap(([key, item]) => rawReferences(item, [...path, key], depth + 1));
}

/** The services a repo's own file may describe: those the ops config assigns to it. */
function repoServices(config: ConfigSpec, repo: string): readonly string[] {
  return config.repos?.[repo]?.services ?? [repo];
}

function checkEnvironmentOverrides(config: ConfigSpec, file: string, services: ReadonlyMap<string, unknown>, problems: Problems): void {
  const serviceNames = [...services.keys()];
  for (const [envName, env] of Object.entries(config.environments)) {
    for (const name of Object.keys(env.services ?? {})) {
      if (!services.has(name)) problems.add(file, joinPath('environments', envName, 'services', name), `no service is named "${name}"${suggestion(name, serviceNames)}`);
    }
  }
  for (const [name, layers] of services) {
    for (const layer of Object.values(layers as Record<string, ServiceLayer>)) {
      for (const envName of Object.keys(layer.spec.environments ?? {})) {
        if (!hasOwn(config.environments, envName)) {
          problems.add(layer.file, joinPath('services', name, 'environments', envName), `no environment is named "${envName}"${suggestion(envName, Object.keys(config.environments))}`);
        }
      }
    }
  }
}

/**
 * Merges a service for one environment. From weakest to strongest: the service repo's file, the
 * ops repo's file, the environment's `defaults`, the service's own `environments.<env>`, and the
 * environment's `services.<name>`.
 */
export function mergeService(sources: ValidatedSources, name: string, environment: string, fragments: FragmentExpander): MergedService {
  const { config, configFile } = sources;
  const layers = sources.services.get(name) ?? {};
  const origins = new Map<string, string>();
  const files: string[] = [];
  let spec: ServicePatchSpec = {};
  const apply = (patch: ServicePatchSpec | undefined, file: string, path: string) => {
    if (patch === undefined) return;
    const expanded = fragments.expand(patch, file, path);
    for (const key of Object.keys(expanded)) if (key !== 'environments' && key !== 'name') origins.set(key, file);
    if (!files.includes(file)) files.push(file);
    spec = mergeLayers(spec, expanded);
  };
  const servicePath = joinPath('services', name);
  for (const layer of [layers.repo, layers.ops]) {
    if (layer === undefined) continue;
    const { environments: _perEnvironment, ...base } = layer.spec;
    apply(base, layer.file, servicePath);
  }
  const env = own(config.environments, environment);
  apply(env?.defaults, configFile, joinPath('environments', environment, 'defaults'));
  for (const layer of [layers.repo, layers.ops]) {
    apply(own(layer?.spec.environments, environment), layer?.file ?? configFile, joinPath(servicePath, 'environments', environment));
  }
  apply(own(env?.services, name), configFile, joinPath('environments', environment, 'services', name));
  return { name, spec: { ...spec, name }, origins, repo: layers.repo?.repo, files };
}
