/**
 * DaemonSets on the bed's real node. A namespace's real-node annotations give each *pod* the node
 * selector and the toleration of the real node's taint, but the DaemonSet controller decides which
 * nodes get a pod from the DaemonSet's *template*: it would put one on kwok's node (where the pod,
 * selected to the real node, can never be scheduled) and none on the tainted real node. A cluster
 * administrator would add the toleration and selector to the DaemonSet; here a mutating admission
 * webhook, served by the test process over loopback TLS, does it for the namespaces a test names,
 * so the objects diploid applies stay as rendered. (The API server's CEL MutatingAdmissionPolicy
 * would need no server, but its JSON patches with object values panic in the bed's API server.)
 */
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeConfig, uniqueSuffix } from './testbed.js';

/** Namespace label the webhook selects. */
export const DAEMONSETS_LABEL = 'diploid.dev/test-daemonsets';

const PATCH = [
  { op: 'add', path: '/spec/template/spec/nodeSelector', value: { 'diploid.dev/node-kind': 'real' } },
  { op: 'add', path: '/spec/template/spec/tolerations', value: [{ key: 'diploid.dev/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] },
];

interface AdmissionReview {
  request?: { uid: string };
}

/** Runs the webhook until `stop()`; DaemonSets in namespaces labelled `${DAEMONSETS_LABEL}=<value>` go to the real node. */
export async function daemonSetsOnRealNode(): Promise<{ value: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'diploid-ds-webhook-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const server: Server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: review.request?.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(PATCH)).toString('base64') },
      }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const value = uniqueSuffix();
  const name = `diploid-test-daemonsets-${value}`;
  const admission = kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
  await admission.createMutatingWebhookConfiguration({
    body: {
      metadata: { name },
      webhooks: [{
        name: 'daemonsets.test.diploid.dev',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 5,
        clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle: cert.toString('base64') },
        rules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['daemonsets'] }],
        namespaceSelector: { matchLabels: { [DAEMONSETS_LABEL]: value } },
      }],
    },
  });
  return {
    value,
    async stop() {
      await admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Labels a namespace so the webhook sends its DaemonSets to the real node. */
export async function labelForDaemonSets(namespace: string, value: string): Promise<void> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.patchNamespace({ name: namespace, body: { metadata: { labels: { [DAEMONSETS_LABEL]: value } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
}
