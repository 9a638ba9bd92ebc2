import type { KubeObject } from '../backends/kubernetes/objects.js';

/**
 * The rights to write the Secrets of `diploid secrets`, granted only when the ops repo keeps
 * secrets (a controller without them has no right on Secrets at all): get, create, patch and
 * delete, never list or watch, so it cannot enumerate the cluster's Secrets. Pure.
 */
export function secretsRbac(options: { namespace: string; project: string; serviceAccount: string }): KubeObject[] {
  const name = `diploid-secrets-${options.project}`;
  const labels = { 'app.kubernetes.io/name': 'diploid-controller', 'app.kubernetes.io/part-of': options.project, 'app.kubernetes.io/managed-by': 'diploid' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'patch', 'delete'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: options.serviceAccount, namespace: options.namespace }],
    },
  ];
}
