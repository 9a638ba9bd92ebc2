/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler, with kwok standing in for kubelets on one fake node so that Deployments roll
 * out, Jobs complete and pods become Ready.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { binDir, kwokStagesDir } from './config.js';
import { freePorts, probe } from './net.js';
import { network, nodeKindLabel } from './node-config.js';
import { type ProcessRecord, startDaemon, waitUntil } from './processes.js';

const run = promisify(execFile);

/** What a running control plane offers its users. */
export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Bearer token of a system:masters user. */
  readonly token: string;
  /** Kubeconfig for that user, context `testbed`. */
  readonly kubeconfig: string;
  /** Name of the fake node kwok manages. */
  readonly nodeName: string;
  readonly etcdUrl: string;
  /**
   * kube-controller-manager's metrics (`https://127.0.0.1:<port>/metrics`, its own self-signed
   * certificate, no credentials): the push bench reads its work queues' depth to start timing
   * only once the cluster has caught up. Absent on a bed started before it was recorded.
   */
  readonly controllerManagerMetrics?: string;
}

/** The name of the fake node, which kwok keeps Ready. */
export const nodeName = 'testbed-node';

/**
 * Starts the control plane, calling `started` with each daemon as soon as it runs so that a
 * failure halfway still leaves everything recorded for `down`.
 */
export async function startControlPlane(
  stateDir: string,
  started: (record: ProcessRecord) => void,
  log: (message: string) => void,
): Promise<ControlPlane> {
  const bin = binDir();
  const dir = join(stateDir, 'kubernetes');
  mkdirSync(join(dir, 'certs'), { recursive: true });
  const ports = await freePorts(6);
  const [etcdPort, etcdPeerPort, apiPort, kcmPort, schedulerPort, kwokPort] = ports as [number, number, number, number, number, number];

  // etcd, on loopback, without fsync: test data doesn't need to survive a power cut.
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = await startDaemon('etcd', join(bin, 'etcd'), [
    '--name=testbed',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-cluster=testbed=http://127.0.0.1:${etcdPeerPort}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ], { stateDir });
  started(etcd);
  await waitUntil('etcd /health', async () => (await probe(`${etcdUrl}/health`)).status === 200, {
    timeoutMs: 60_000,
    process: etcd,
  });
  log(`etcd ready at ${etcdUrl}`);

  // Credentials: a static token for an admin, and a key pair for service account tokens.
  const token = randomBytes(24).toString('hex');
  const tokens = join(dir, 'tokens.csv');
  writeFileSync(tokens, `${token},admin,admin-uid,system:masters\n`, { mode: 0o600 });
  const saKey = join(dir, 'service-account.key');
  await run('openssl', ['genrsa', '-out', saKey, '2048']);

  const server = `https://127.0.0.1:${apiPort}`;
  const certDir = join(dir, 'certs');
  const apiserver = await startDaemon('kube-apiserver', join(bin, 'kube-apiserver'), [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${certDir}`,
    `--token-auth-file=${tokens}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${saKey}`,
    `--service-account-signing-key-file=${saKey}`,
    `--service-cluster-ip-range=${network.serviceCidr}`,
    '--allow-privileged=true',
    // The real node's kubelet listens on loopback (its --node-ip) for logs and exec.
    '--kubelet-preferred-address-types=InternalIP',
    // Namespaces of real-node tests carry a default toleration and node selector (testbed.ts).
    '--enable-admission-plugins=PodNodeSelector,PodTolerationRestriction',
    // Loopback can't be a Service endpoint, and a machine without a default route has no other
    // address; nothing in the bed needs the `kubernetes` Service's endpoints.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ], { stateDir });
  started(apiserver);
  const auth = { Authorization: `Bearer ${token}` };
  await waitUntil('kube-apiserver /readyz', async () => (await probe(`${server}/readyz`, auth)).status === 200, {
    timeoutMs: 120_000,
    process: apiserver,
  });
  log(`kube-apiserver ready at ${server}`);

  // kube-apiserver self-signs into one apiserver.crt holding its serving certificate and the CA
  // that signed it: clients can trust that file as a bundle and verify TLS for real.
  const ca = join(certDir, 'apiserver.crt');
  if (!existsSync(ca)) throw new Error(`kube-apiserver wrote no ${ca}`);
  const kubeconfig = join(stateDir, 'kubeconfig');
  writeFileSync(kubeconfig, renderKubeconfig(server, token, ca), { mode: 0o600 });

  // No --authentication-kubeconfig: delegated authentication would look for a client CA the
  // token-only apiserver never publishes, and log about it forever. /healthz needs none.
  const kcm = await startDaemon('kube-controller-manager', join(bin, 'kube-controller-manager'), [
    `--kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${kcmPort}`,
    `--cert-dir=${join(dir, 'kcm-certs')}`,
    `--service-account-private-key-file=${saKey}`,
    `--root-ca-file=${ca}`,
    '--use-service-account-credentials=false',
    // Loopback only; /metrics joins the probes' paths so the bench can read the work queues.
    '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
    `--service-cluster-ip-range=${network.serviceCidr}`,
    '--profiling=false',
  ], { stateDir });
  started(kcm);
  const scheduler = await startDaemon('kube-scheduler', join(bin, 'kube-scheduler'), [
    `--kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${schedulerPort}`,
    `--cert-dir=${join(dir, 'scheduler-certs')}`,
    '--profiling=false',
  ], { stateDir });
  started(scheduler);
  await waitUntil('kube-controller-manager /healthz', async () => (await probe(`https://127.0.0.1:${kcmPort}/healthz`)).status === 200, {
    timeoutMs: 60_000,
    process: kcm,
  });
  await waitUntil('kube-scheduler /healthz', async () => (await probe(`https://127.0.0.1:${schedulerPort}/healthz`)).status === 200, {
    timeoutMs: 60_000,
    process: scheduler,
  });
  log('kube-controller-manager and kube-scheduler ready');

  // kwok plays the kubelet for nodes carrying its annotation, driven by the stage files shipped
  // in its module (node initialise and heartbeat; pod ready, complete and delete).
  // kwok also answers the kubelet's log endpoint (HTTPS, any certificate: the API server does not
  // verify kubelets here) with the lines of one file for every container: `kubectl logs` and
  // `diploid logs` then go the real way, API server to node.
  const logs = kwokLogs(dir);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', logs.key, '-out', logs.cert, '-subj', '/CN=kwok', '-days', '30']);
  const stages = kwokStagesDir();
  if (!existsSync(stages)) throw new Error(`kwok stage files are missing from ${stages}; run scripts/testbed build`);
  const kwok = await startDaemon('kwok', join(bin, 'kwok'), [
    `--kubeconfig=${kubeconfig}`,
    ...readdirSync(stages).filter((f) => f.endsWith('.yaml')).sort().map((f) => `--config=${join(stages, f)}`),
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    `--server-address=127.0.0.1:${kwokPort}`,
    `--node-port=${kwokPort}`,
    `--tls-cert-file=${logs.cert}`,
    `--tls-private-key-file=${logs.key}`,
    `--config=${logs.config}`,
    '--node-ip=127.0.0.1',
    // Renewing the node's Lease keeps the node lifecycle controller from marking it NotReady
    // between the heartbeat stage's status updates (every 20-45s).
    '--node-lease-duration-seconds=40',
  ], { stateDir });
  started(kwok);

  await kubectl(kubeconfig, ['apply', '-f', '-'], fakeNode());
  await waitUntil(`node ${nodeName} Ready`, async () => {
    const { stdout } = await kubectl(kubeconfig, [
      'get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    return stdout.trim() === 'True';
  }, { timeoutMs: 60_000, process: kwok, intervalMs: 500 });
  // Pods are only admitted once their namespace's service account exists.
  await waitUntil('the default service account', async () => {
    await kubectl(kubeconfig, ['get', 'serviceaccount', 'default', '-n', 'default']);
    return true;
  }, { timeoutMs: 60_000, process: kcm, intervalMs: 500 });
  log(`node ${nodeName} Ready (kwok)`);

  return { server, token, kubeconfig, nodeName, etcdUrl, controllerManagerMetrics: `https://127.0.0.1:${kcmPort}/metrics` };
}

/** Runs the bed's kubectl against a kubeconfig. */
export async function kubectl(kubeconfig: string, args: readonly string[], stdin?: string): Promise<{ stdout: string; stderr: string }> {
  const child = run(join(binDir(), 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], { maxBuffer: 16 * 1024 * 1024 });
  if (stdin !== undefined) {
    child.child.stdin?.end(stdin);
  }
  return child;
}

function renderKubeconfig(server: string, token: string, ca: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster:
    server: ${server}
    certificate-authority: ${JSON.stringify(ca)}
users:
- name: admin
  user:
    token: ${token}
contexts:
- name: testbed
  context:
    cluster: testbed
    user: admin
    namespace: default
current-context: testbed
`;
}

/** The fake node: no taints, roomy, annotated so kwok manages it. */
function fakeNode(): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
        [nodeKindLabel]: 'kwok',
      },
    },
    spec: {},
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
    },
  });
}

/**
 * The file kwok serves as every container's log (CRI log format, one `<time> stdout F <line>` a
 * line); tests append to it. Its folder also holds kwok's certificate and ClusterLogs config.
 */
export function kwokLogs(dir: string): { file: string; cert: string; key: string; config: string } {
  const folder = join(dir, 'kwok-logs');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'container.log');
  if (!existsSync(file)) writeFileSync(file, '');
  const config = join(folder, 'cluster-logs.yaml');
  writeFileSync(config, `kind: ClusterLogs\napiVersion: kwok.x-k8s.io/v1alpha1\nmetadata:\n  name: every-container\nspec:\n  selector: {}\n  logs:\n  - containers: []\n    logsFile: ${JSON.stringify(file)}\n    follow: false\n`);
  return { file, cert: join(folder, 'kwok.crt'), key: join(folder, 'kwok.key'), config };
}
