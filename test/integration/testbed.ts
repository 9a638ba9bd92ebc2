/**
 * Helpers that give integration tests the test bed started by `testbed-setup.ts`: a real
 * Kubernetes API server (kwok plays the kubelet), an image registry and a git server, all on
 * loopback. A part that could not start makes the tests that ask for it fail with the reason.
 */
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { inject, onTestFinished } from 'vitest';
import { realNodeNamespaceAnnotations } from '../../testbed/node-config.js';

/** What the global setup hands every test file (plain data: it crosses process boundaries). */
export interface TestbedInfo {
  /** State folder of the bed (logs are in `logs/`). */
  readonly stateDir: string;
  /** Folder of the built binaries, kubectl among them. */
  readonly binDir: string;
  /** True when the run reuses a bed started with `scripts/testbed up` (and leaves it running). */
  readonly reused: boolean;
  readonly kubernetes?: {
    readonly kubeconfig: string;
    readonly server: string;
    readonly token: string;
    readonly nodeName: string;
  };
  /** host:port for image references, and http://host:port. */
  readonly registry?: { readonly host: string; readonly url: string };
  /** http://127.0.0.1:port; repositories are `${url}/<name>.git`. */
  readonly git?: { readonly url: string };
  /** The real node: a kubelet that runs containers (kwok's node runs none). */
  readonly node?: {
    readonly nodeName: string;
    /** Pod addresses, reachable from the host. */
    readonly podSubnet: string;
    readonly dnsServer: string;
  };
  /** Traefik: send requests to `url` with a route's Host header; Ingress class `className`. */
  readonly ingress?: { readonly url: string; readonly className: string; readonly gateway: { readonly name: string; readonly namespace: string } };
  /**
   * The registry and git server at the address pods reach (the bridge's gateway), with the API
   * server behind the `kubernetes` Service: what an in-cluster controller uses.
   */
  readonly podGateway?: { readonly address: string; readonly registry: string; readonly gitUrl: string };
  /** Why a part is unavailable, by part name. */
  readonly problems: Readonly<Record<string, string>>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedInfo;
  }
}

/** The bed, as provided by the global setup. */
export function testbed(): TestbedInfo {
  return inject('testbed');
}

function unavailable(part: string): Error {
  const info = testbed();
  const reason = info.problems[part] ?? 'it was not started';
  return new Error(`the test bed's ${part} is not available, so this test cannot run: ${reason}`);
}

/** The Kubernetes part, or a failure saying why it is missing. */
export function requireKubernetes(): NonNullable<TestbedInfo['kubernetes']> {
  const { kubernetes } = testbed();
  if (kubernetes === undefined) throw unavailable('kubernetes');
  return kubernetes;
}

export function requireRegistry(): NonNullable<TestbedInfo['registry']> {
  const { registry } = testbed();
  if (registry === undefined) throw unavailable('registry');
  return registry;
}

export function requireGit(): NonNullable<TestbedInfo['git']> {
  const { git } = testbed();
  if (git === undefined) throw unavailable('git');
  return git;
}

export function requireRealNode(): NonNullable<TestbedInfo['node']> {
  const { node } = testbed();
  if (node === undefined) throw unavailable('node');
  return node;
}

export function requireIngress(): NonNullable<TestbedInfo['ingress']> {
  const { ingress } = testbed();
  if (ingress === undefined) throw unavailable('ingress');
  return ingress;
}

/** The bed's services as pods reach them (the real node's part), or a failure saying why not. */
export function requirePodGateway(): NonNullable<TestbedInfo['podGateway']> {
  const { podGateway } = testbed();
  if (podGateway === undefined) throw unavailable('node');
  return podGateway;
}

/** A client-node KubeConfig for the bed's admin user. */
export function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(requireKubernetes().kubeconfig);
  return kc;
}

/** A short random suffix for names that must not collide between tests or runs. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** A fresh namespace for one test. */
export interface TestNamespace {
  readonly name: string;
  /** Deletes it (without waiting for its contents to go). */
  delete(): Promise<void>;
}

/**
 * Which node a test's pods run on: `kwok` (the default: pods are marked Ready, no container
 * runs, hundreds fit) or `real` (the kubelet runs real containers from the bed's images).
 */
export type NodeKind = 'kwok' | 'real';

/**
 * Namespace annotations that send every pod of a namespace to the real node: the API server's
 * PodNodeSelector and PodTolerationRestriction admission plugins add the node selector and the
 * toleration of the real node's taint to each pod, and the bed's placement policy does the same
 * for DaemonSets' templates (testbed/daemonset-placement.ts). Pods elsewhere tolerate nothing, so
 * they stay on kwok's node. Objects diploid renders stay exactly as rendered.
 */
export function nodeKindAnnotations(kind: NodeKind): Record<string, string> {
  if (kind === 'kwok') return {};
  return { ...realNodeNamespaceAnnotations };
}

/**
 * Creates a namespace named `<prefix>-<random>` (or exactly `name`), labelled
 * `diploid.dev/test=true`, whose pods run on the node kind asked for. Called inside a test, it is
 * deleted when the test finishes; called elsewhere (a `beforeAll`), the caller deletes it.
 */
export async function freshNamespace(prefix = 'test', options: { node?: NodeKind; name?: string } = {}): Promise<TestNamespace> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  if (options.node === 'real') requireRealNode();
  const name = options.name ?? `${prefix}-${uniqueSuffix()}`.toLowerCase().slice(0, 63);
  const annotations = nodeKindAnnotations(options.node ?? 'kwok');
  await core.createNamespace({ body: { metadata: { name, labels: { 'diploid.dev/test': 'true' }, annotations } } });
  // Pods are refused until the namespace's default service account exists.
  await eventually(`service account default in ${name}`, async () => {
    await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    return true;
  }, 30_000);
  const namespace: TestNamespace = {
    name,
    async delete() {
      await core.deleteNamespace({ name }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    },
  };
  try {
    onTestFinished(() => namespace.delete());
  } catch {
    // Not inside a test: the caller cleans up.
  }
  return namespace;
}

/** A URL for a new, empty repository on the bed's git server (created by the first push). */
export function freshGitRepoUrl(prefix = 'repo'): string {
  return `${requireGit().url}/${prefix}-${uniqueSuffix()}.git`;
}

/** True for client-node's 404 errors. */
export function isNotFound(error: unknown): boolean {
  return error instanceof k8s.ApiException && error.code === 404;
}

/**
 * Polls `check` until it returns a value other than `false`/`undefined`, and returns that value.
 * Fails after `timeoutMs` with `what` and the last error or value seen.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | false | undefined>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'never checked';
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
      last = `last result: ${String(value)}`;
    } catch (error) {
      last = `last error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what} (${last})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Installs a stand-in HTTPRoute CRD (the Gateway API's group and kind, any fields accepted) and
 * waits until it is Established: enough for the API server to take and serve the routes diploid
 * renders. Already there (another test file installed it) is fine.
 */
export async function installHttpRouteCrd(): Promise<void> {
  const api = kubeConfig().makeApiClient(k8s.ApiextensionsV1Api);
  const name = 'httproutes.gateway.networking.k8s.io';
  await api
    .createCustomResourceDefinition({
      body: {
        // Groups under k8s.io are protected: the real Gateway API CRDs carry this approval too.
        metadata: { name, annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/2466' } },
        spec: {
          group: 'gateway.networking.k8s.io',
          names: { kind: 'HTTPRoute', plural: 'httproutes', singular: 'httproute', listKind: 'HTTPRouteList' },
          scope: 'Namespaced',
          versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
        },
      },
    })
    .catch((error: unknown) => {
      if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
    });
  await eventually('the HTTPRoute CRD to be established', async () => {
    const crd = await api.readCustomResourceDefinition({ name });
    return crd.status?.conditions?.some((condition) => condition.type === 'Established' && condition.status === 'True');
  });
}

/**
 * A client that speaks as a new service account `name` of `namespace`, bound to a Role there with
 * these rules only: what a user or controller with narrower rights than the bed's admin sees.
 */
export async function serviceAccountConfig(namespace: string, name: string, rules: k8s.V1PolicyRule[]): Promise<k8s.KubeConfig> {
  const admin = kubeConfig();
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  const core = admin.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace }] },
  });
  const token = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 600 } } });
  const cluster = admin.getCurrentCluster()!;
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: token.status?.token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return config;
}
