import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { RetryableError, TerminalError } from '../errors.js';
import type { ImageBuild } from '../plan/types.js';
import { buildFailure, readBuildLog, type BuildFailure } from './build-log.js';
import { reasonOf, statusOf } from './kube-client.js';

/** A build that ran and failed: terminal for its commit (reason `BuildFailed`), with the step and log tail. */
export class BuildFailedError extends TerminalError {
  constructor(
    message: string,
    readonly service: string,
    readonly failure: BuildFailure,
  ) {
    super('BuildFailed', message);
  }
}

/**
 * BuildKit's image (buildkitd, buildctl and `buildctl-daemonless.sh`): each build Job starts its
 * own buildkitd for one build, as BuildKit's `examples/kubernetes/job.privileged.yaml` does.
 */
export const DEFAULT_BUILDER_IMAGE = 'docker.io/moby/buildkit:v0.34.2';

/** Label on every build Job, so they can be listed (and cleaned up) together. */
export const BUILD_LABEL = 'diploid.dev/build';

/** How build Jobs are made. */
export interface BuildJobSettings {
  /** Namespace the Jobs run in: the controller's. */
  readonly namespace: string;
  /** Builder image: BuildKit's (`moby/buildkit`) or one with the same `buildctl-daemonless.sh`. */
  readonly image: string;
  /** A Secret in `namespace` of type `kubernetes.io/dockerconfigjson` with push rights on the registry; optional. */
  readonly registrySecret?: string;
  /** A Secret in `namespace` holding `password` (a token) for cloning private repos over HTTPS; optional. */
  readonly gitSecret?: string;
  /** A ConfigMap in `namespace` holding `buildkitd.toml` (registry mirrors, plain-HTTP registries); optional. */
  readonly buildkitdConfig?: string;
  /** Registries (host:port) spoken to over plain HTTP: the push and the layer cache say so to buildctl. */
  readonly plainHttpRegistries?: readonly string[];
  /** Run build pods in the node's network (the test bed's registry and git server listen on loopback). */
  readonly hostNetwork?: boolean;
  /** Kubernetes stops a build that runs longer (the Job fails with `DeadlineExceeded`). */
  readonly activeDeadlineSeconds?: number;
  /** Nodes builds may run on. */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Tolerations of build pods (to reach a tainted build node). */
  readonly tolerations?: readonly unknown[];
  /** At most this many build Jobs run at once in `namespace`; more wait for a slot. Default 2. */
  readonly maxConcurrent?: number;
}

/** One build to run: what the plan says, where to clone from, and the Dockerfile when diploid writes it. */
export interface BuildRequest {
  readonly build: ImageBuild;
  /** Clone URL of the build's repo (https:// or http://). */
  readonly repoUrl: string;
  /** Contents of the Dockerfile when the `spa` preset writes it. */
  readonly inlineDockerfile?: string;
  /** The environment that asked for the build (a label on the Job, for `diploid logs build --env`). */
  readonly environment?: string;
}

/** Label naming the environment that first asked for a build. */
export const BUILD_ENVIRONMENT_LABEL = 'diploid.dev/environment';

/** Name of a build's Job: the same image reference gives the same name, so a restart finds the Job it started. Pure. */
export function buildJobName(build: Pick<ImageBuild, 'service' | 'ref'>): string {
  const hash = createHash('sha256').update(build.ref).digest('hex').slice(0, 10);
  const service = build.service.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40).replace(/-+$/, '');
  return `build-${service}-${hash}`;
}

/**
 * `https://bot:token@host/group/app.git`, commit, `app` -> `https://host/group/app.git#<commit>:app`:
 * BuildKit's git context at one commit and sub-folder. Credentials never go in it (they would
 * show in the Job); they go in as a build secret. Pure.
 */
export function gitContext(repoUrl: string, commit: string, subdir = '.'): string {
  const url = new URL(repoUrl);
  url.username = '';
  url.password = '';
  const dir = subdir.replace(/^\.\/?/, '').replace(/\/+$/, '');
  return `${url.toString()}#${commit}${dir === '' ? '' : `:${dir}`}`;
}

/** Where a build's layer cache lives in the registry: the image's repository, tag `buildcache`. Pure. */
export function cacheRef(imageRef: string): string {
  const at = imageRef.indexOf('@');
  const withoutDigest = at === -1 ? imageRef : imageRef.slice(0, at);
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const repository = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  return `${repository}:buildcache`;
}

/** The registry host of an image reference (`host:port/path:tag` -> `host:port`). Pure. */
function registryOf(ref: string): string {
  return ref.split('/')[0] ?? '';
}

const INLINE_DIR = '/diploid/dockerfile';
const DOCKER_CONFIG_DIR = '/diploid/docker';

/** buildctl's arguments for one build. Pure. */
export function buildctlArgs(request: BuildRequest, settings: Pick<BuildJobSettings, 'plainHttpRegistries'>): string[] {
  const { build } = request;
  const inline = request.inlineDockerfile !== undefined;
  const plain = (settings.plainHttpRegistries ?? []).includes(registryOf(build.ref));
  const insecure = plain ? ',registry.insecure=true' : '';
  const cache = cacheRef(build.ref);
  return [
    'build',
    '--frontend=dockerfile.v0',
    `--opt=context=${gitContext(request.repoUrl, build.commit, build.context)}`,
    // With a git context, the frontend reads the Dockerfile from git too unless `dockerfilekey`
    // names the local one: without it, the `spa` preset's Dockerfile was never found.
    ...(inline ? [`--local=dockerfile=${INLINE_DIR}`, '--opt=dockerfilekey=dockerfile', '--opt=filename=Dockerfile'] : [`--opt=filename=${build.dockerfile}`]),
    ...Object.entries(build.args)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => `--opt=build-arg:${key}=${value}`),
    ...(build.target === undefined ? [] : [`--opt=target=${build.target}`]),
    `--output=type=image,name=${build.ref},push=true${insecure}`,
    // The layer cache lives in the registry, so a new Job (a fresh buildkitd) reuses earlier layers.
    `--import-cache=type=registry,ref=${cache}${insecure}`,
    `--export-cache=type=registry,ref=${cache},mode=max${insecure}`,
    '--progress=plain',
  ];
}

/**
 * The shell line a build pod runs: a git token, when the Secret has one, becomes BuildKit's
 * `GIT_AUTH_TOKEN.<host>` build secret (never an argument), then buildctl-daemonless.sh builds.
 */
function buildScript(repoUrl: string): string {
  const host = new URL(repoUrl).host;
  return [
    'set -e',
    `if [ -n "\${GIT_AUTH_TOKEN:-}" ]; then set -- "$@" --secret "id=GIT_AUTH_TOKEN.${host},env=GIT_AUTH_TOKEN"; fi`,
    'exec buildctl-daemonless.sh "$@"',
  ].join('\n');
}

/**
 * The objects of one in-cluster build: a `batch/v1` Job running BuildKit (privileged: buildkitd
 * needs mounts and namespaces; BuildKit's rootless mode needs user namespaces the node may lack),
 * and, for a Dockerfile diploid writes, a ConfigMap holding it. Pure.
 */
export function buildJobObjects(request: BuildRequest, settings: BuildJobSettings): { job: KubeObject; configMap?: KubeObject } {
  const { build } = request;
  const name = buildJobName(build);
  const labels = {
    'app.kubernetes.io/managed-by': 'diploid',
    'app.kubernetes.io/component': 'build',
    [BUILD_LABEL]: build.service,
    ...(request.environment === undefined ? {} : { [BUILD_ENVIRONMENT_LABEL]: request.environment }),
  };
  const annotations = { 'diploid.dev/image': build.ref, 'diploid.dev/commit': build.commit, 'diploid.dev/repo': build.repo };
  const inline = request.inlineDockerfile !== undefined;
  const volumes: unknown[] = [{ name: 'buildkit', emptyDir: {} }];
  // buildkitd's overlayfs snapshots cannot sit on the container's own overlay root.
  const mounts: unknown[] = [{ name: 'buildkit', mountPath: '/var/lib/buildkit' }];
  if (inline) {
    volumes.push({ name: 'dockerfile', configMap: { name } });
    mounts.push({ name: 'dockerfile', mountPath: INLINE_DIR, readOnly: true });
  }
  if (settings.buildkitdConfig !== undefined) {
    volumes.push({ name: 'buildkitd-config', configMap: { name: settings.buildkitdConfig, optional: true } });
    mounts.push({ name: 'buildkitd-config', mountPath: '/etc/buildkit', readOnly: true });
  }
  const env: unknown[] = [];
  if (settings.registrySecret !== undefined) {
    volumes.push({ name: 'registry', secret: { secretName: settings.registrySecret, optional: true, items: [{ key: '.dockerconfigjson', path: 'config.json' }] } });
    mounts.push({ name: 'registry', mountPath: DOCKER_CONFIG_DIR, readOnly: true });
    env.push({ name: 'DOCKER_CONFIG', value: DOCKER_CONFIG_DIR });
  }
  if (settings.gitSecret !== undefined) {
    env.push({ name: 'GIT_AUTH_TOKEN', valueFrom: { secretKeyRef: { name: settings.gitSecret, key: 'password', optional: true } } });
  }
  const job: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: settings.namespace, labels, annotations },
    spec: {
      // A failed build is reported, not retried: the same inputs would fail the same way.
      backoffLimit: 0,
      ...(settings.activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds: settings.activeDeadlineSeconds }),
      // Kept a day so its failure can be read; once gone, the next resync builds again.
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...(settings.hostNetwork === true ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
          ...(settings.nodeSelector === undefined ? {} : { nodeSelector: { ...settings.nodeSelector } }),
          ...(settings.tolerations === undefined ? {} : { tolerations: [...settings.tolerations] }),
          containers: [
            {
              name: 'build',
              image: settings.image,
              command: ['sh', '-c', buildScript(request.repoUrl), 'build'],
              args: buildctlArgs(request, settings),
              ...(env.length === 0 ? {} : { env }),
              volumeMounts: mounts,
              securityContext: { privileged: true },
              resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '4Gi' } },
            },
          ],
          volumes,
        },
      },
    },
  };
  if (!inline) return { job };
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: settings.namespace, labels, annotations },
    data: { Dockerfile: request.inlineDockerfile ?? '' },
  };
  return { job, configMap };
}

/** How a build Job ended. */
export type JobOutcome = { readonly state: 'running' } | { readonly state: 'complete' } | { readonly state: 'failed'; readonly reason: string };

/** Reads a Job's conditions. Pure. */
export function jobOutcome(job: Pick<k8s.V1Job, 'status'>): JobOutcome {
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find((condition) => (condition.type === 'Failed' || condition.type === 'FailureTarget') && condition.status === 'True');
  if (failed !== undefined) return { state: 'failed', reason: `${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}` };
  const complete = conditions.find((condition) => (condition.type === 'Complete' || condition.type === 'SuccessCriteriaMet') && condition.status === 'True');
  if (complete !== undefined) return { state: 'complete' };
  return { state: 'running' };
}

/** Starts a build Job, or finds the one started before (by its name, so a restarted controller does not build twice). */
export async function startBuildJob(config: k8s.KubeConfig, request: BuildRequest, settings: BuildJobSettings, options: { slotTimeoutMs?: number; pollMs?: number } = {}): Promise<{ created: boolean }> {
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const { job, configMap } = buildJobObjects(request, settings);
  const namespace = settings.namespace;
  const name = job.metadata.name;
  try {
    // Started before (a restart, or the same image wanted by two environments): nothing to do.
    const existing = await batch.readNamespacedJob({ name, namespace }).catch((error: unknown) => {
      if (statusOf(error) === 404) return undefined;
      throw error;
    });
    if (existing !== undefined) return { created: false };
    await waitForSlot(batch, settings, options);
    if (configMap !== undefined) {
      await core.createNamespacedConfigMap({ namespace, body: configMap as k8s.V1ConfigMap }).catch((error: unknown) => {
        if (statusOf(error) !== 409) throw error;
      });
    }
    await batch.createNamespacedJob({ namespace, body: job as k8s.V1Job });
    return { created: true };
  } catch (error) {
    if (statusOf(error) === 409) return { created: false };
    if (error instanceof RetryableError) throw error;
    throw asBuildError(error, `cannot start build Job ${namespace}/${name}`);
  }
}

/**
 * The concurrency bound: waits while `maxConcurrent` build Jobs are running in the namespace.
 * Counted from the cluster, not from memory, so a restarted controller keeps to it.
 */
async function waitForSlot(batch: k8s.BatchV1Api, settings: BuildJobSettings, options: { slotTimeoutMs?: number; pollMs?: number }): Promise<void> {
  const max = settings.maxConcurrent ?? 2;
  const deadline = Date.now() + (options.slotTimeoutMs ?? 30 * 60_000);
  for (;;) {
    const jobs = await batch.listNamespacedJob({ namespace: settings.namespace, labelSelector: BUILD_LABEL });
    const running = jobs.items.filter((item) => jobOutcome(item).state === 'running').length;
    if (running < max) return;
    if (Date.now() > deadline) throw new RetryableError(`${running} builds are running in ${settings.namespace} (at most ${max} at once); waiting for a slot timed out`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}

/**
 * Waits for a build Job. A failed Job is a `TerminalError` (reason `BuildFailed`) naming the
 * Job's own reason; a Job still running at the timeout is a `RetryableError` (waited on again later).
 */
export async function waitForBuildJob(config: k8s.KubeConfig, build: Pick<ImageBuild, 'service' | 'ref'>, settings: Pick<BuildJobSettings, 'namespace'>, options: { timeoutMs: number; pollMs?: number }): Promise<void> {
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const name = buildJobName(build);
  const namespace = settings.namespace;
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let current: k8s.V1Job;
    try {
      current = await batch.readNamespacedJob({ name, namespace });
    } catch (error) {
      throw asBuildError(error, `cannot read build Job ${namespace}/${name}`);
    }
    const outcome = jobOutcome(current);
    if (outcome.state === 'complete') return;
    if (outcome.state === 'failed') throw await buildFailedError(config, build, namespace, name, outcome.reason);
    if (Date.now() > deadline) throw new RetryableError(`build Job ${namespace}/${name} still running after ${Math.round(options.timeoutMs / 1000)}s`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}

/** A failed build as a `BuildFailedError`: the Job's reason, the failing step and its log's tail. */
async function buildFailedError(config: k8s.KubeConfig, build: Pick<ImageBuild, 'service' | 'ref'>, namespace: string, name: string, reason: string): Promise<BuildFailedError> {
  // The log is best effort: a pod already removed still leaves the Job's own reason.
  const log = await readBuildLog(config, namespace, name).catch(() => undefined);
  const failure = log === undefined ? { tail: '' } : buildFailure(log);
  const step = failure.step === undefined ? '' : ` at step ${failure.step}`;
  const tail = failure.tail === '' ? '' : `\n--- last lines of the build log ---\n${failure.tail}`;
  return new BuildFailedError(`build of ${build.service} (${build.ref}) failed${step} (Job ${namespace}/${name}: ${reason})${tail}`, build.service, failure);
}

function asBuildError(error: unknown, what: string): Error {
  const code = statusOf(error);
  if (code !== undefined && code >= 400 && code < 500 && ![408, 409, 429].includes(code)) return new TerminalError('BuildRefused', `${what}: ${reasonOf(error)}`);
  return new RetryableError(`${what}: ${reasonOf(error)}`);
}
