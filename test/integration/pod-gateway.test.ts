/**
 * The bed's pod gateway (testbed/pod-gateway.ts): a pod on the real node reaches the API server
 * through the `kubernetes` Service with its service account, TLS verified against the cluster's
 * CA as any in-cluster client does, and the registry and git server at the gateway's address.
 */
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { eventually, freshNamespace, kubeConfig, requirePodGateway, requireRealNode } from './testbed.js';

// Node's fetch, with the service account's CA and token, as an in-cluster client does.
const SCRIPT = `
const fs = require('node:fs');
const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
const token = fs.readFileSync(sa + '/token', 'utf8');
const [registry, git] = process.argv.slice(1);
(async () => {
  const api = await fetch('https://kubernetes.default.svc/api/v1/namespaces/' + fs.readFileSync(sa + '/namespace', 'utf8') + '/serviceaccounts/default', { headers: { authorization: 'Bearer ' + token } });
  const account = await api.json();
  const reg = await fetch('http://' + registry + '/v2/');
  const repo = await fetch(git + '/healthz');
  console.log(JSON.stringify({ api: api.status, account: account.metadata && account.metadata.name, registry: reg.status, git: repo.status }));
})().catch((error) => { console.log(JSON.stringify({ error: String(error && error.cause || error) })); process.exit(1); });
`;

describe('the pod gateway', () => {
  it('gives pods the API server behind Service kubernetes (TLS verified, service account token), the registry and the git server', async () => {
    const gateway = requirePodGateway();
    const { name: namespace } = await freshNamespace('gateway', { node: 'real' });
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    // The pod reads its own ServiceAccount: the namespace's default one may take a moment to appear.
    await eventually('the default ServiceAccount', async () => (await core.listNamespacedServiceAccount({ namespace })).items.some((item) => item.metadata?.name === 'default') || undefined, 30_000, 250);
    const rbac = kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'read-sa' }, rules: [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] }] } });
    await rbac.createNamespacedRoleBinding({ namespace, body: { metadata: { name: 'read-sa' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-sa' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace }] } });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'client' },
        spec: {
          restartPolicy: 'Never',
          containers: [{
            name: 'main',
            image: 'node:20-alpine',
            command: ['node', '-e', SCRIPT, gateway.registry, gateway.gitUrl],
            env: [{ name: 'NODE_EXTRA_CA_CERTS', value: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' }],
          }],
        },
      },
    });
    const pod = await eventually('the client finished', async () => {
      const read = await core.readNamespacedPod({ name: 'client', namespace });
      return read.status?.phase === 'Succeeded' || read.status?.phase === 'Failed' ? read : undefined;
    }, 120_000, 500);
    expect(pod.spec?.nodeName).toBe(requireRealNode().nodeName);
    const log = await core.readNamespacedPodLog({ name: 'client', namespace, container: 'main' });
    expect(JSON.parse(log.trim().split('\n').pop() ?? '{}')).toEqual({ api: 200, account: 'default', registry: 200, git: 200 });
  });
});
