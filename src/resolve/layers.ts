import { configSchema, type ConfigSpec } from '../model/config.js';
import { serviceSchema, type ServicePatchSpec, type ServiceSpec } from '../model/service.js';
import { mergeLayers } from './merge.js';
import { joinPath, type Problems } from './problems.js';
import { suggestion, validateDocument } from './schema-errors.js';
import type { AppSources } from './sources.js';

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
      const prefix = name === undefined ? (Array.isArray(document.value) ? `[${index}]` : '') : joinPath('services', name);
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
  if (config === undefined) return undefined;
  checkEnvironmentOverrides(config, configFile, services, problems);
  for (const name of services.keys()) invalid.delete(name);
  return { config, configFile, services, invalid };
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
        if (!(envName in config.environments)) {
          problems.add(layer.file, joinPath('services', name, 'environments', envName), `no environment is named "${envName}"${suggestion(envName, Object.keys(config.environments))}`);
        }
      }
    }
  }
}

/** Replaces `extends` by the named fragments, merged in order under the patch itself. */
export function expandFragments(
  patch: ServicePatchSpec,
  fragments: Readonly<Record<string, ServicePatchSpec>>,
  file: string,
  path: string,
  problems: Problems,
  fragmentsFile: string,
  chain: readonly string[] = [],
): ServicePatchSpec {
  const { extends: names, ...own } = patch;
  let merged: ServicePatchSpec = {};
  (names ?? []).forEach((name, index) => {
    const fragment = fragments[name];
    if (fragment === undefined) {
      problems.add(file, joinPath(path, 'extends', index), `no fragment is named "${name}"${suggestion(name, Object.keys(fragments))}`);
      return;
    }
    if (chain.includes(name)) {
      problems.add(file, joinPath(path, 'extends', index), `fragments form a cycle: ${[...chain, name].join(' -> ')}`);
      return;
    }
    merged = mergeLayers(merged, expandFragments(fragment, fragments, fragmentsFile, joinPath('fragments', name), problems, fragmentsFile, [...chain, name]));
  });
  return mergeLayers(merged, own);
}

/**
 * Merges a service for one environment. From weakest to strongest: the service repo's file, the
 * ops repo's file, the environment's `defaults`, the service's own `environments.<env>`, and the
 * environment's `services.<name>`.
 */
export function mergeService(sources: ValidatedSources, name: string, environment: string, problems: Problems): MergedService {
  const { config, configFile } = sources;
  const fragments = config.fragments ?? {};
  const layers = sources.services.get(name) ?? {};
  const origins = new Map<string, string>();
  const files: string[] = [];
  let spec: ServicePatchSpec = {};
  const apply = (patch: ServicePatchSpec | undefined, file: string, path: string) => {
    if (patch === undefined) return;
    const expanded = expandFragments(patch, fragments, file, path, problems, configFile);
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
  const env = config.environments[environment];
  apply(env?.defaults, configFile, joinPath('environments', environment, 'defaults'));
  for (const layer of [layers.repo, layers.ops]) {
    apply(layer?.spec.environments?.[environment], layer?.file ?? configFile, joinPath(servicePath, 'environments', environment));
  }
  apply(env?.services?.[name], configFile, joinPath('environments', environment, 'services', name));
  return { name, spec: { ...spec, name }, origins, repo: layers.repo?.repo, files };
}
