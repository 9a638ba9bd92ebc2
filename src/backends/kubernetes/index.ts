import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';
import { planFiles } from './files.js';
import { httpRoute } from './httproute.js';
import { ingress } from './ingress.js';
import { ENVIRONMENT_LABEL, MANAGED_BY, serviceLabels, sortKeys } from './labels.js';
import { clusterService, externalService } from './network.js';
import { sortObjects, type KubeObject } from './objects.js';
import { reusedServices } from './reuse.js';
import { autoscaler, disruptionBudget } from './scaling.js';
import { corsMiddleware } from './traefik.js';
import { scheduleJobs, taskJobs } from './tasks.js';
import { workload } from './workload.js';

export type { KubeObject } from './objects.js';
export { isPreRolloutTask, PHASE_LABEL, PRE_ROLLOUT, splitPreRollout } from './tasks.js';

export interface KubernetesOutput {
  /** Objects in apply order: Namespace first, routes last. */
  readonly objects: readonly KubeObject[];
  readonly warnings: readonly string[];
}

/**
 * Compiles one resolved environment into plain Kubernetes objects. Pure: same app, same objects.
 * Results are remembered by value (resolved values are immutable): `render` checks and then
 * writes the same app, and the controller's resolution reuses unchanged services from push to
 * push (resolve/memo.ts), so their objects are compiled once and keep their identity, which the
 * hashes of the inventory are remembered by.
 */
export function compileKubernetes(app: ResolvedApp): KubernetesOutput {
  const known = compiledApps.get(app);
  if (known !== undefined) return known;
  const warnings: string[] = [];
  // A namespace someone else owns is never rendered, so never labelled, applied or pruned.
  const objects: KubeObject[] = app.environment.ownsNamespace ? [namespace(app)] : [];
  const appKey = JSON.stringify([app.project, app.environment, app.ingress, app.images, app.pullSecret ?? null]);
  for (const service of app.services) {
    let compiled = compiledServices.get(service);
    if (compiled === undefined || compiled.appKey !== appKey) {
      const serviceWarnings: string[] = [];
      compiled = { appKey, objects: serviceObjects(app, service, (message) => serviceWarnings.push(message)), warnings: serviceWarnings };
      compiledServices.set(service, compiled);
    }
    objects.push(...compiled.objects);
    warnings.push(...compiled.warnings);
  }
  objects.push(...(reusedServices(app) as KubeObject[]));
  const output = { objects: sortObjects(objects), warnings };
  compiledApps.set(app, output);
  return output;
}

const compiledApps = new WeakMap<ResolvedApp, KubernetesOutput>();
/** A service's objects, with the environment-wide settings they were compiled under. */
const compiledServices = new WeakMap<ResolvedService, { readonly appKey: string; readonly objects: readonly KubeObject[]; readonly warnings: readonly string[] }>();

function serviceObjects(app: ResolvedApp, service: ResolvedService, warn: (message: string) => void): KubeObject[] {
  const files = planFiles(app, service);
  const { workload: work, claims } = workload(app, service, files);
  const route = app.ingress.api === 'gateway' ? httpRoute(app, service, warn) : ingress(app, service, warn);
  const candidates = [
    service.serviceAccount.kind === 'own' ? serviceAccount(app, service) : undefined,
    ...files.configMaps,
    ...claims,
    clusterService(app, service),
    externalService(app, service),
    ...taskJobs(app, service),
    work,
    ...scheduleJobs(app, service),
    autoscaler(app, service, work),
    disruptionBudget(app, service),
    corsMiddleware(app, service),
    route,
  ];
  const objects = candidates.filter((object): object is NonNullable<typeof object> => object !== undefined) as KubeObject[];
  return objects.map((object) => annotate(object, service.annotations));
}

/** The user's annotations on an object; diploid's own (CORS, checksums) win on a clash. */
function annotate(object: KubeObject, annotations: Readonly<Record<string, string>>): KubeObject {
  if (Object.keys(annotations).length === 0) return object;
  return { ...object, metadata: { ...object.metadata, annotations: sortKeys({ ...annotations, ...object.metadata.annotations }) } };
}

function namespace(app: ResolvedApp): KubeObject {
  const object: INamespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: app.environment.namespace,
      labels: {
        'app.kubernetes.io/managed-by': MANAGED_BY,
        'app.kubernetes.io/part-of': app.project,
        [ENVIRONMENT_LABEL]: app.environment.name,
        // Warn, not enforce: a service may relax the hardened defaults on purpose.
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
  return object as KubeObject;
}

function serviceAccount(app: ResolvedApp, service: ResolvedService): IServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: service.name, namespace: app.environment.namespace, labels: serviceLabels(app, service) } };
}
