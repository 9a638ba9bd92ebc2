import type { KubeObject } from '../backends/kubernetes/objects.js';
import type { ConfigSpec } from '../model/config.js';

/**
 * The right to read the kubeconfig Secrets of `clusters`, and only those (by name): the
 * controller cannot list or read any other Secret of its namespace through it. None when the
 * ops config names no other cluster. Pure.
 */
export function clustersRbac(config: Pick<ConfigSpec, 'clusters' | 'project'>, options: { namespace: string; serviceAccount: string }): KubeObject[] {
  const secrets = [...new Set(Object.values(config.clusters ?? {}).map((cluster) => cluster.kubeconfigSecret))].sort();
  if (secrets.length === 0) return [];
  const name = `diploid-clusters-${config.project}`;
  const labels = { 'app.kubernetes.io/name': 'diploid-controller', 'app.kubernetes.io/part-of': config.project, 'app.kubernetes.io/managed-by': 'diploid' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: options.namespace, labels },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: secrets, verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: options.namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: options.serviceAccount, namespace: options.namespace }],
    },
  ];
}
