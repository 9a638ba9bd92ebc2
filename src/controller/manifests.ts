import type { KubeObject } from '../backends/kubernetes/objects.js';
import { DEFAULT_BUILDER_IMAGE } from '../cluster/build-job.js';

/** Namespace the controller runs in unless `controller.namespace` says otherwise. */
export const DEFAULT_CONTROLLER_NAMESPACE = 'diploid-system';
/** The Secret `diploid init` expects the user to create: diploid never writes secrets. */
export const DEFAULT_CONTROLLER_SECRET = 'diploid';
/** Port the webhook endpoint listens on inside the pod. */
export const CONTROLLER_PORT = 8080;
/** Where the controller's Secret is mounted, for `{ file }` secret sources. */
export const SECRET_MOUNT = '/var/run/secrets/diploid';
/** Where the optional Secret `diploid-registry` (a Docker config) is mounted in the controller. */
export const REGISTRY_MOUNT = '/var/run/secrets/diploid-registry';
/** Where git mirrors are cached (an emptyDir: losing it costs a clone, nothing else). */
export const CACHE_MOUNT = '/var/cache/diploid';

/**
 * How the controller's Node process runs: the environment of its container, and `npm run bench --
 * --only push` starts the controller with the same. Two malloc arenas instead of up to eight per
 * core (glibc makes one per thread that allocates: V8's workers, libuv's pool), which otherwise
 * hold freed memory each. V8's young generation keeps its default size: at 1000 services it grows
 * to its 2 x 16 MiB with every push, but capped at 2 x 4 MiB (`--max-semi-space-size=4`, with the
 * controller's collection when idle) the process's memory outside V8's heap grew instead, to 181-190
 * MiB against 146-151 (measured in the bench; README, "Push to deployed"). Smaller semi-spaces (1
 * or 4 MiB) without that collection had grown the old generation by 6-12 MiB a push. Capped at 2 x
 * 8 MiB, one run gave 134 MiB after 20 pushes and the next 200 (malloc'd memory outside V8's heap
 * 80 MiB higher from the first deploy on), where four runs at the default gave 148-154.
 */
export const CONTROLLER_RUNTIME_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** Everything the controller's objects depend on; all values already resolved. */
export interface ControllerManifestOptions {
  readonly namespace: string;
  /** The diploid image the Deployment runs. */
  readonly image: string;
  readonly builderImage?: string;
  /** Clone URL of the ops repo. */
  readonly opsUrl: string;
  /** e.g. `5m`. */
  readonly resync?: string;
  /** Name of the user's Secret holding the webhook master secret and the git tokens. */
  readonly secretName: string;
  /** Environment variables read from that Secret (same key name): the webhook secret's and each git token's. */
  readonly secretEnv: readonly string[];
  /** Labels identify the project, so one cluster can run several ops repos' controllers. */
  readonly project: string;
  /** Registry hosts reached over plain HTTP (a registry inside the cluster or on the nodes' network). */
  readonly plainHttpRegistries?: readonly string[];
}

const NAME = 'diploid-controller';

/**
 * The controller's objects: Namespace, ServiceAccount, the least RBAC it needs, a Deployment
 * running `diploid controller`, and a Service for the webhook port. Secrets are referenced, never
 * written. Pure: same options, same objects, same order.
 */
export function controllerManifests(options: ControllerManifestOptions): KubeObject[] {
  const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/part-of': options.project, 'app.kubernetes.io/managed-by': 'diploid' };
  const selector = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/part-of': options.project };
  const namespace = options.namespace;
  const meta = (name: string) => ({ name, namespace, labels });
  const clusterName = `${NAME}-${options.project}`;
  const env = [
    ...[...new Set(options.secretEnv)].sort().map((name) => ({ name, valueFrom: { secretKeyRef: { name: options.secretName, key: name } } })),
    { name: 'DIPLOID_CACHE', value: CACHE_MOUNT },
    ...Object.entries(CONTROLLER_RUNTIME_ENV).map(([name, value]) => ({ name, value })),
  ];
  const args = [
    'controller',
    `--ops=${options.opsUrl}`,
    `--namespace=${namespace}`,
    `--port=${CONTROLLER_PORT}`,
    `--builder-image=${options.builderImage ?? DEFAULT_BUILDER_IMAGE}`,
    `--registry-config=${REGISTRY_MOUNT}/config.json`,
    ...[...new Set(options.plainHttpRegistries ?? [])].sort().map((host) => `--plain-http-registry=${host}`),
    ...(options.resync === undefined ? [] : [`--resync=${options.resync}`]),
  ];
  const verbs = ['get', 'list', 'create', 'patch', 'delete'];
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(NAME) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: clusterName, labels },
      rules: [
        // Environments live in namespaces of their own; previews create and delete theirs.
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create', 'patch', 'delete'] },
        // What the Kubernetes backend renders: applied (get + patch, create for new ones), pruned (list + delete).
        { apiGroups: [''], resources: ['configmaps', 'serviceaccounts', 'services'], verbs },
        // Volume claims are applied, never pruned: data is not deleted.
        { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'create', 'patch'] },
        // A failed rollout names its pods' reason.
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        // The rollout wait watches the workloads a push changed (without it, it reads them every 100 ms).
        { apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'statefulsets'], verbs: [...verbs, 'watch'] },
        { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs },
        { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs },
        { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs },
        // The cors preset renders a Traefik Middleware for Traefik's ingress classes.
        { apiGroups: ['traefik.io'], resources: ['middlewares'], verbs },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: clusterName, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(NAME),
      rules: [
        // Build Jobs run in the controller's own namespace only.
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'create', 'delete'] },
        // A failed build's status carries the tail of its build pod's log.
        { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
        // The delivery log and the inbox are replaced with a resourceVersion precondition (compare-and-swap).
        { apiGroups: [''], resources: ['configmaps'], verbs: ['update'] },
        // Leader election between the replicas.
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(NAME),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace }],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(NAME),
      spec: { selector, ports: [{ name: 'webhooks', port: 80, targetPort: 'webhooks', protocol: 'TCP' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(NAME),
      spec: {
        // Two replicas: both serve webhooks, the Lease's holder reconciles, the other takes over when it dies.
        replicas: 2,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'controller',
                image: options.image,
                args,
                env,
                ports: [{ name: 'webhooks', containerPort: CONTROLLER_PORT, protocol: 'TCP' }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'webhooks' }, periodSeconds: 10 },
                livenessProbe: { httpGet: { path: '/healthz', port: 'webhooks' }, periodSeconds: 30, failureThreshold: 3 },
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [
                  { name: 'cache', mountPath: CACHE_MOUNT },
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'secret', mountPath: SECRET_MOUNT, readOnly: true },
                  { name: 'registry', mountPath: REGISTRY_MOUNT, readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'cache', emptyDir: {} },
              { name: 'tmp', emptyDir: {} },
              { name: 'secret', secret: { secretName: options.secretName } },
              // The push credentials of build Jobs also answer the registry's challenges when the controller asks what it has.
              { name: 'registry', secret: { secretName: 'diploid-registry', optional: true, items: [{ key: '.dockerconfigjson', path: 'config.json' }] } },
            ],
          },
        },
      },
    },
  ];
}

/**
 * The image `diploid init` deploys unless `--image` or `controller.image` names another. Not
 * published yet: build diploid's Dockerfile and push it to your registry (README, "diploid's own
 * image"); init says so when it falls back to this name.
 */
export const DEFAULT_CONTROLLER_IMAGE = 'ghcr.io/diploid/diploid:0.1.0';

/**
 * How the user creates the Secret the controller reads (diploid never writes one): one
 * `--from-literal` per variable, values left for the user to fill. Pure.
 */
export function secretInstructions(namespace: string, secretName: string, secretEnv: readonly string[]): string {
  const literals = [...new Set(secretEnv)].sort().map((name) => `  --from-literal=${name}="$${name}"`);
  return [
    `kubectl create namespace ${namespace} --dry-run=client -o yaml | kubectl apply -f -`,
    `kubectl -n ${namespace} create secret generic ${secretName} \\`,
    ...literals.map((line, index) => (index === literals.length - 1 ? line : `${line} \\`)),
  ].join('\n');
}
