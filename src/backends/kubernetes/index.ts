import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';
import { planFiles } from './files.js';
import { httpRoute } from './httproute.js';
import { ingress } from './ingress.js';
import { ENVIRONMENT_LABEL, MANAGED_BY, serviceLabels } from './labels.js';
import { clusterService } from './network.js';
import { sortObjects, type KubeObject } from './objects.js';
import { reusedServices } from './reuse.js';
import { autoscaler, disruptionBudget } from './scaling.js';
import { corsMiddleware } from './traefik.js';
import { workload } from './workload.js';

export type { KubeObject } from './objects.js';

export interface KubernetesOutput {
  /** Objects in apply order: Namespace first, routes last. */
  readonly objects: readonly KubeObject[];
  readonly warnings: readonly string[];
}

/** Compiles one resolved environment into plain Kubernetes objects. Pure: same app, same objects. */
export function compileKubernetes(app: ResolvedApp): KubernetesOutput {
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  const objects: KubeObject[] = [namespace(app)];
  for (const service of app.services) objects.push(...serviceObjects(app, service, warn));
  objects.push(...(reusedServices(app) as KubeObject[]));
  return { objects: sortObjects(objects), warnings };
}

function serviceObjects(app: ResolvedApp, service: ResolvedService, warn: (message: string) => void): KubeObject[] {
  const files = planFiles(app, service);
  const { workload: work, claims } = workload(app, service, files);
  const route = app.ingress.api === 'gateway' ? httpRoute(app, service, warn) : ingress(app, service, warn);
  const candidates = [
    service.serviceAccount.kind === 'own' ? serviceAccount(app, service) : undefined,
    ...files.configMaps,
    ...claims,
    clusterService(app, service),
    work,
    autoscaler(app, service, work),
    disruptionBudget(app, service),
    corsMiddleware(app, service),
    route,
  ];
  return candidates.filter((object): object is NonNullable<typeof object> => object !== undefined) as KubeObject[];
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
