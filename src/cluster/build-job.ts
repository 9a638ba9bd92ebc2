import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { RetryableError, TerminalError } from '../errors.js';
import type { ImageBuild } from '../plan/types.js';
import { reasonOf, statusOf } from './kube-client.js';

/** kaniko's executor: builds a Dockerfile without a Docker daemon or privileges. */
export const DEFAULT_BUILDER_IMAGE = 'gcr.io/kaniko-project/executor:v1.23.2';

/** Label on every build Job, so they can be listed (and cleaned up) together. */
export const BUILD_LABEL = 'diploid.dev/build';

/** How build Jobs are made. */
export interface BuildJobSettings {
  /** Namespace the Jobs run in: the controller's. */
  readonly namespace: string;
  /** Builder image (kaniko's executor or one that takes the same flags). */
  readonly image: string;
  /** A Secret in `namespace` of type `kubernetes.io/dockerconfigjson` with push rights on the registry; optional. */
  readonly registrySecret?: string;
  /** A Secret in `namespace` holding `username` / `password` for cloning private repos over HTTPS; optional. */
  readonly gitSecret?: string;
  /** Kubernetes stops a build that runs longer (the Job fails with `DeadlineExceeded`). */
  readonly activeDeadlineSeconds?: number;
  /** Nodes builds may run on. */
  readonly nodeSelector?: Readonly<Record<string, string>>;
}

/** One build to run: what the plan says, where to clone from, and the Dockerfile when diploid writes it. */
export interface BuildRequest {
  readonly build: ImageBuild;
  /** Clone URL of the build's repo (https://, http:// or a git:// URL). */
  readonly repoUrl: string;
  /** Contents of the Dockerfile when the `spa` preset writes it. */
  readonly inlineDockerfile?: string;
}

/** Name of a build's Job: the same image reference gives the same name, so a restart finds the Job it started. Pure. */
export function buildJobName(build: Pick<ImageBuild, 'service' | 'ref'>): string {
  const hash = createHash('sha256').update(build.ref).digest('hex').slice(0, 10);
  const service = build.service.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40).replace(/-+$/, '');
  return `build-${service}-${hash}`;
}

/** `https://host/group/app.git` -> `git://host/group/app.git#<sha>`: kaniko's git context. Pure. */
export function gitContext(repoUrl: string, commit: string): string {
  const withoutScheme = repoUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/^[^@/]+@/, '');
  return `git://${withoutScheme}#${commit}`;
}

const INLINE_DIR = '/diploid/dockerfile';

/**
 * The objects of one in-cluster build: a `batch/v1` Job running the builder with kaniko's flags,
 * and, for a Dockerfile diploid writes, a ConfigMap holding it (mounted into the Job). Pure.
 */
export function buildJobObjects(request: BuildRequest, settings: BuildJobSettings): { job: KubeObject; configMap?: KubeObject } {
  const { build } = request;
  const name = buildJobName(build);
  const labels = { 'app.kubernetes.io/managed-by': 'diploid', 'app.kubernetes.io/component': 'build', [BUILD_LABEL]: build.service };
  const annotations = { 'diploid.dev/image': build.ref, 'diploid.dev/commit': build.commit, 'diploid.dev/repo': build.repo };
  const inline = request.inlineDockerfile !== undefined;
  const args = [
    `--context=${gitContext(request.repoUrl, build.commit)}`,
    ...(build.context === '.' || build.context === '' ? [] : [`--context-sub-path=${build.context}`]),
    `--dockerfile=${inline ? `${INLINE_DIR}/Dockerfile` : build.dockerfile}`,
    `--destination=${build.ref}`,
    ...Object.entries(build.args)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => `--build-arg=${key}=${value}`),
    ...(build.target === undefined ? [] : [`--target=${build.target}`]),
  ];
  const volumes: unknown[] = [];
  const mounts: unknown[] = [];
  if (inline) {
    volumes.push({ name: 'dockerfile', configMap: { name } });
    mounts.push({ name: 'dockerfile', mountPath: INLINE_DIR, readOnly: true });
  }
  if (settings.registrySecret !== undefined) {
    volumes.push({ name: 'registry', secret: { secretName: settings.registrySecret, optional: true, items: [{ key: '.dockerconfigjson', path: 'config.json' }] } });
    mounts.push({ name: 'registry', mountPath: '/kaniko/.docker', readOnly: true });
  }
  const env =
    settings.gitSecret === undefined
      ? []
      : [
          { name: 'GIT_USERNAME', valueFrom: { secretKeyRef: { name: settings.gitSecret, key: 'username', optional: true } } },
          { name: 'GIT_PASSWORD', valueFrom: { secretKeyRef: { name: settings.gitSecret, key: 'password', optional: true } } },
        ];
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
          ...(settings.nodeSelector === undefined ? {} : { nodeSelector: { ...settings.nodeSelector } }),
          containers: [
            {
              name: 'build',
              image: settings.image,
              args,
              ...(env.length === 0 ? {} : { env }),
              ...(mounts.length === 0 ? {} : { volumeMounts: mounts }),
              resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '4Gi' } },
            },
          ],
          ...(volumes.length === 0 ? {} : { volumes }),
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
export async function startBuildJob(config: k8s.KubeConfig, request: BuildRequest, settings: BuildJobSettings): Promise<{ created: boolean }> {
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const { job, configMap } = buildJobObjects(request, settings);
  const namespace = settings.namespace;
  try {
    if (configMap !== undefined) {
      await core.createNamespacedConfigMap({ namespace, body: configMap as k8s.V1ConfigMap }).catch((error: unknown) => {
        if (statusOf(error) !== 409) throw error;
      });
    }
    await batch.createNamespacedJob({ namespace, body: job as k8s.V1Job });
    return { created: true };
  } catch (error) {
    if (statusOf(error) === 409) return { created: false };
    throw asBuildError(error, `cannot start build Job ${namespace}/${job.metadata.name}`);
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
    if (outcome.state === 'failed') throw new TerminalError('BuildFailed', `build of ${build.ref} failed (Job ${namespace}/${name}): ${outcome.reason}`);
    if (Date.now() > deadline) throw new RetryableError(`build Job ${namespace}/${name} still running after ${Math.round(options.timeoutMs / 1000)}s`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}

function asBuildError(error: unknown, what: string): Error {
  const code = statusOf(error);
  if (code !== undefined && code >= 400 && code < 500 && ![408, 409, 429].includes(code)) return new TerminalError('BuildRefused', `${what}: ${reasonOf(error)}`);
  return new RetryableError(`${what}: ${reasonOf(error)}`);
}
