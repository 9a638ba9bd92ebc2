import { createHash } from 'node:crypto';
import { compileKubernetes } from '../backends/kubernetes/index.js';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import type { BuildRequest } from '../cluster/build-job.js';
import { TerminalError } from '../errors.js';
import { previewApp } from '../plan/preview-app.js';
import { annotateSecretVersions, secretsDirOf } from '../secrets/versions.js';
import { resolveState } from '../plan/resolve-state.js';
import { objectDigest } from '../cluster/object-digest.js';
import type { AppState, EnvironmentPlan } from '../plan/types.js';
import type { ResolvedApp } from '../resolve/model.js';

/** What one environment should look like: its objects, the images they need, and a hash of both. */
export interface DesiredEnvironment {
  readonly app: ResolvedApp;
  readonly objects: readonly KubeObject[];
  /** Builds of the services this environment runs (not those a `single` preview reuses). Sorted by service. */
  readonly builds: readonly Omit<BuildRequest, 'repoUrl'>[];
  /** Same objects, same revision: the reconciler skips a revision it already deployed. */
  readonly revision: string;
  readonly warnings: readonly string[];
  /** What is done to rendered objects before they are applied (secret versions); kept to compile again. */
  readonly annotate: (objects: readonly KubeObject[]) => readonly KubeObject[];
}

/**
 * Resolves and compiles the whole environment a plan entry concerns, from the state the planner
 * read: every service, not only the changed ones, so a deploy converges on what git says. Pure.
 */
export function desiredEnvironment(plan: EnvironmentPlan, state: AppState): DesiredEnvironment {
  const preview = plan.preview === undefined ? undefined : { name: plan.name, namespace: plan.namespace, base: plan.preview.base };
  const resolved = resolveState(state, plan.name, preview);
  if (!resolved.ok) {
    throw new TerminalError('ConfigInvalid', resolved.problems.map((problem) => `${problem.file}${problem.path === '' ? '' : ` ${problem.path}`}: ${problem.message}`).join('; '));
  }
  // Each Secret's content version goes on what uses it, so a changed secret rolls its pods.
  const annotate = (objects: readonly KubeObject[]) => annotateSecretVersions(objects, state.repos.ops?.objects, secretsDirOf(state.sources.config.value), plan.preview?.base ?? plan.name);
  return compiled(previewApp(resolved.app, plan), resolved.builds, annotate);
}

/**
 * The environment with some services held back, because their image could not be built: each
 * keeps the image it runs now (`keep` maps it to that reference), or, when it runs none yet
 * (`undefined`), is left out. The other services deploy as planned. Pure.
 */
export function withHeldBack(desired: DesiredEnvironment, keep: ReadonlyMap<string, string | undefined>): DesiredEnvironment {
  const services = desired.app.services
    .filter((service) => !keep.has(service.name) || keep.get(service.name) !== undefined)
    .map((service) => {
      const ref = keep.get(service.name);
      return ref === undefined ? service : { ...service, image: { ...service.image, ref } };
    });
  const builds = new Map(desired.builds.filter((build) => !keep.has(build.build.service)).map((build) => [build.build.service, build.build]));
  const held = compiled({ ...desired.app, services }, builds, desired.annotate);
  return { ...held, warnings: [...desired.warnings, ...held.warnings.filter((warning) => !desired.warnings.includes(warning))] };
}

function compiled(app: ResolvedApp, buildsByService: ReadonlyMap<string, BuildRequest['build']>, annotate: (objects: readonly KubeObject[]) => readonly KubeObject[]): DesiredEnvironment {
  const { objects: rendered, warnings } = compileKubernetes(app);
  const objects = annotate(rendered);
  const builds = app.services
    .map((service) => {
      const build = buildsByService.get(service.name);
      if (build === undefined || service.image.kind !== 'build') return undefined;
      const inline = service.image.inlineDockerfile;
      return { build, ...(inline === undefined ? {} : { inlineDockerfile: inline }) };
    })
    .filter((build): build is NonNullable<typeof build> => build !== undefined);
  // A hash of the objects' digests in order: the same as hashing them all, without serializing again the unchanged ones.
  const revision = createHash('sha256').update(objects.map(objectDigest).join('\n')).digest('hex').slice(0, 20);
  return { app, objects, builds, revision, warnings, annotate };
}
