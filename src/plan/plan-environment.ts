import { defaultNamespace } from '../model/kubernetes-names.js';
import { own } from '../resolve/own.js';
import { resolveState, sameFingerprint, type ResolvedState } from './resolve-state.js';
import type { AppState, CurrentEnvironment, EnvironmentPlan, ImageBuild, PlanTarget, PreviewSettings, ReusedService } from './types.js';

/** The states one environment is planned from. */
export interface EnvironmentStates {
  /** The environment's inputs before the push; undefined for a new branch. */
  readonly before?: AppState;
  /** After the push; undefined for a teardown. */
  readonly after?: AppState;
  /** The base environment's inputs, for `single` previews: what "changed on the branch" is measured against. */
  readonly base?: AppState;
}

/**
 * Plans one environment: which services to (re)deploy, which images to build, which to remove
 * and, for `single` previews, which to reuse from the base. A service is deployed when its
 * resolved form (image ref included) differs from before, so a change to shared config reaches
 * exactly the services that use it. Undefined when there is nothing to do.
 */
export function planEnvironment(target: PlanTarget, states: EnvironmentStates, current?: readonly CurrentEnvironment[]): EnvironmentPlan | undefined {
  const base = { name: target.name, ...(target.branch === undefined ? {} : { branch: target.branch }), reason: target.reason, builds: [], deploy: [], remove: [], reuse: [], problems: [] };
  if (target.teardown === true || states.after === undefined) {
    return { ...base, namespace: target.namespace ?? '', action: 'delete', ...(target.preview === undefined ? {} : { preview: { ...target.preview, baseNamespace: '' } }) };
  }
  const preview = target.preview === undefined || target.namespace === undefined ? undefined : { name: target.name, namespace: target.namespace, base: target.preview.base };
  const after = resolveState(states.after, target.name, preview);
  const before = states.before === undefined ? undefined : resolveState(states.before, target.name, preview);
  const beforeOk = before?.ok === true ? before : undefined;
  const settings = target.preview === undefined ? undefined : previewSettings(target.preview, states.after);
  const withPreview = settings === undefined ? {} : { preview: settings };
  if (!after.ok) return { ...base, ...withPreview, namespace: target.namespace ?? beforeOk?.app.environment.namespace ?? '', action: 'failed', problems: after.problems };

  const exists = current !== undefined ? current.some((env) => env.name === target.name) : target.preview === undefined || states.before !== undefined;
  let inside = [...after.fingerprints.keys()];
  let insideBefore = beforeOk === undefined ? [] : [...beforeOk.fingerprints.keys()];
  let reuse: ReusedService[] = [];
  if (settings?.mode === 'single') {
    const reference = resolveState(states.base ?? states.after, target.name, preview);
    inside = changedFrom(after, reference);
    if (beforeOk !== undefined) insideBefore = changedFrom(beforeOk, reference);
    const changed = new Set(inside);
    reuse = [...after.fingerprints.keys()].filter((name) => !changed.has(name)).map((service) => ({ service, namespace: settings.baseNamespace }));
  }
  // Sets: at 1000 services, `includes` in a filter was a million comparisons.
  const insideSet = new Set(inside);
  const insideBeforeSet = new Set(insideBefore);
  const deploy = inside.filter((name) => beforeOk === undefined || !insideBeforeSet.has(name) || !sameFingerprint(beforeOk.fingerprints, after.fingerprints, name)).sort();
  const remove = insideBefore.filter((name) => !insideSet.has(name)).sort();
  const builds = deploy
    .map((name) => after.builds.get(name))
    .filter((build): build is ImageBuild => build !== undefined && (beforeOk === undefined || beforeOk.builds.get(build.service)?.tag !== build.tag));
  if (exists && deploy.length === 0 && remove.length === 0) return undefined;
  return { ...base, ...withPreview, namespace: after.app.environment.namespace, action: exists ? 'update' : 'create', builds, deploy, remove, reuse: reuse.sort((a, b) => (a.service < b.service ? -1 : 1)) };
}

/** Services of `state` that differ from `reference` (or that it lacks): what a `single` preview deploys. */
function changedFrom(state: Extract<ResolvedState, { ok: true }>, reference: ResolvedState): string[] {
  if (!reference.ok) return [...state.fingerprints.keys()];
  return [...state.fingerprints.keys()].filter((name) => !sameFingerprint(state.fingerprints, reference.fingerprints, name));
}

function previewSettings(preview: NonNullable<PlanTarget['preview']>, state: AppState): PreviewSettings {
  const base = resolveState(state, preview.base);
  const { sources } = state;
  const fallback = () => {
    const config = sources.config.value as { project?: unknown; environments?: Record<string, { namespace?: unknown }> };
    const namespace = own(config.environments, preview.base)?.namespace;
    return typeof namespace === 'string' ? namespace : defaultNamespace(String(config.project), preview.base);
  };
  return { ...preview, baseNamespace: base.ok ? base.app.environment.namespace : fallback() };
}
