import type { IService } from 'kubernetes-models/v1/Service';
import type { ResolvedApp } from '../../resolve/model.js';
import { ENVIRONMENT_LABEL, MANAGED_BY } from './labels.js';

/** Cluster DNS suffix of Services; the default of every distribution diploid targets. */
const CLUSTER_DOMAIN = 'svc.cluster.local';

/**
 * One `ExternalName` Service per reused service, named like it, pointing at its instance in the
 * base namespace: the preview's services keep their references (`api:8080`) unchanged.
 */
export function reusedServices(app: ResolvedApp): IService[] {
  return (app.reused ?? []).map(({ service, namespace }) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: service,
      namespace: app.environment.namespace,
      labels: {
        'app.kubernetes.io/managed-by': MANAGED_BY,
        'app.kubernetes.io/name': service,
        'app.kubernetes.io/part-of': app.project,
        [ENVIRONMENT_LABEL]: app.environment.name,
        'diploid.dev/reused-from': namespace,
      },
    },
    spec: { type: 'ExternalName', externalName: `${service}.${namespace}.${CLUSTER_DOMAIN}` },
  }));
}
