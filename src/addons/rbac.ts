import type { KubeObject } from '../backends/kubernetes/objects.js';

/**
 * The right to install add-ons. Add-ons are cluster-wide by nature (CRDs, ClusterRoles for their
 * controllers, webhooks), and Kubernetes lets only a holder of every right a ClusterRole grants
 * create it; so, like Flux's kustomize-controller, the controller is bound to `cluster-admin`,
 * and only when the ops repo declares add-ons. Pure.
 */
export function addonsRbac(options: { namespace: string; project: string; serviceAccount: string }): KubeObject[] {
  const name = `diploid-addons-${options.project}`;
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels: { 'app.kubernetes.io/name': 'diploid-controller', 'app.kubernetes.io/part-of': options.project, 'app.kubernetes.io/managed-by': 'diploid' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: options.serviceAccount, namespace: options.namespace }],
    },
  ];
}
