import { ConfigError, UserError, type ConfigProblem } from '../errors.js';
import { resolveApp } from '../resolve/index.js';
import type { ResolvedApp, ResolvedService } from '../resolve/model.js';
import type { AppSources } from '../resolve/sources.js';
import { contentTag } from './content-tag.js';
import type { AppState, ImageBuild } from './types.js';

/** One environment of one state, resolved with content tags, or why it could not be. */
export type ResolvedState =
  | { readonly ok: true; readonly app: ResolvedApp; readonly builds: ReadonlyMap<string, ImageBuild>; readonly fingerprints: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** A preview environment to add to the config before resolving: the base's settings, its own namespace. */
export interface PreviewEnvironment {
  readonly name: string;
  readonly namespace: string;
  readonly base: string;
}

/** Resolves `environment` of a state; built images get their content tags. */
export function resolveState(state: AppState, environment: string, preview?: PreviewEnvironment): ResolvedState {
  if (state.problems.length > 0) return { ok: false, problems: state.problems };
  const sources = preview === undefined ? state.sources : withPreviewEnvironment(state.sources, preview);
  const first = attempt(sources, () => resolveApp(sources, { environment }));
  if (!first.ok) return first;
  const problems: ConfigProblem[] = [];
  const tags: Record<string, string> = {};
  const commits: Record<string, string> = {};
  for (const service of first.value.services) {
    if (service.image.kind !== 'build') continue;
    const repo = state.repos[service.image.repo];
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
  const second = attempt(sources, () => resolveApp(sources, { environment, imageTags: tags }));
  if (!second.ok) return second;
  const app = second.value;
  const builds = new Map<string, ImageBuild>();
  const fingerprints = new Map<string, string>();
  for (const service of app.services) {
    fingerprints.set(service.name, fingerprint(app, service));
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
 * What a service's deployment depends on: the resolved service itself (with its image ref, so a
 * new content tag counts) and the environment-wide settings every backend reads. Two equal
 * fingerprints render the same objects.
 */
export function fingerprint(app: ResolvedApp, service: ResolvedService): string {
  const { services: _services, ...shared } = app;
  return stableStringify({ app: shared, service });
}

export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/** Adds a preview environment to the config as written: the base's settings, minus its namespace and domain. */
export function withPreviewEnvironment(sources: AppSources, preview: PreviewEnvironment): AppSources {
  const value = sources.config.value;
  if (typeof value !== 'object' || value === null) return sources;
  const environments = (value as { environments?: unknown }).environments;
  if (typeof environments !== 'object' || environments === null) return sources;
  const base = (environments as Record<string, unknown>)[preview.base];
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
