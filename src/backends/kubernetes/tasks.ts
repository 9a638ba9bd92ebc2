import { createHash } from 'node:crypto';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IJobSpec } from 'kubernetes-models/batch/v1/JobSpec';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { ResolvedApp, ResolvedSchedule, ResolvedService, ResolvedTask } from '../../resolve/model.js';
import { extraContainer } from './containers.js';
import { serviceLabels, sortKeys } from './labels.js';
import type { KubeObject } from './objects.js';
import { ownVolumes } from './pod.js';
import { podSecurity } from './security.js';

/**
 * The label that marks a Job the deploy path runs to completion before anything else of the
 * environment is applied. Its value says when: only `pre-rollout` exists today.
 */
export const PHASE_LABEL = 'diploid.dev/phase';
export const PRE_ROLLOUT = 'pre-rollout';

/** True for a one-shot task that must succeed before the rest of its environment is applied. */
export function isPreRolloutTask(object: Pick<KubeObject, 'kind' | 'metadata'>): boolean {
  return object.kind === 'Job' && object.metadata.labels?.[PHASE_LABEL] === PRE_ROLLOUT;
}

/**
 * Splits an environment's objects into what runs first (the Namespace and what tasks read:
 * ServiceAccounts, ConfigMaps), the tasks themselves, and the rest, each in apply order.
 * The deploy path applies `before` and `tasks`, waits for every task to complete, then `rest`.
 */
export function splitPreRollout(objects: readonly KubeObject[]): { readonly before: KubeObject[]; readonly tasks: KubeObject[]; readonly rest: KubeObject[] } {
  const tasks = objects.filter(isPreRolloutTask);
  if (tasks.length === 0) return { before: [], tasks: [], rest: [...objects] };
  const first = new Set(['Namespace', 'ServiceAccount', 'ConfigMap']);
  return {
    before: objects.filter((object) => first.has(object.kind)),
    tasks,
    rest: objects.filter((object) => !first.has(object.kind) && !isPreRolloutTask(object)),
  };
}

/** Pods of tasks and schedules: not selected by the service's Service, whose `name` label differs. */
function jobLabels(app: ResolvedApp, service: ResolvedService, job: string): Record<string, string> {
  return sortKeys({ ...serviceLabels(app, service), 'app.kubernetes.io/name': job, 'app.kubernetes.io/component': 'job' });
}

function jobTemplate(app: ResolvedApp, service: ResolvedService, entry: ResolvedTask | ResolvedSchedule, name: string): IJobSpec {
  // Only scratch volumes: a persistent claim may be held by the running version's pod.
  const scratch = service.volumes.filter((volume) => volume.kind === 'scratch');
  const template: IPodTemplateSpec = {
    metadata: { labels: jobLabels(app, service, name) },
    spec: {
      restartPolicy: 'Never',
      securityContext: podSecurity(service),
      containers: [extraContainer(service, entry, scratch.map((volume) => ({ name: volume.name, mountPath: volume.path })))],
      ...(scratch.length > 0 ? { volumes: ownVolumes({ ...service, volumes: scratch }, 'claim') } : {}),
      ...(service.serviceAccount.kind === 'none' ? { automountServiceAccountToken: false } : { serviceAccountName: service.serviceAccount.kind === 'own' ? service.name : service.serviceAccount.name }),
      ...(app.pullSecret === undefined ? {} : { imagePullSecrets: [{ name: app.pullSecret }] }),
    },
  };
  return { backoffLimit: entry.retries, ...(entry.timeout === undefined ? {} : { activeDeadlineSeconds: entry.timeout }), template };
}

/**
 * One Job per task and revision: its name ends with a hash of what it runs, so a new revision
 * is a new Job (a Job's template cannot change) and an unchanged one is not run again.
 */
export function taskJobs(app: ResolvedApp, service: ResolvedService): IJob[] {
  return service.tasks.map((task) => {
    const base = `${service.name}-${task.name}`;
    const spec = jobTemplate(app, service, task, base);
    const hash = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 8);
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: `${base}-${hash}`,
        namespace: app.environment.namespace,
        labels: sortKeys({ ...serviceLabels(app, service), [PHASE_LABEL]: PRE_ROLLOUT }),
      },
      spec,
    };
  });
}

export function scheduleJobs(app: ResolvedApp, service: ResolvedService): ICronJob[] {
  return service.schedules.map((schedule) => {
    const name = `${service.name}-${schedule.name}`;
    return {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name, namespace: app.environment.namespace, labels: serviceLabels(app, service) },
      // A run still going when the next is due is left alone rather than doubled.
      spec: { schedule: schedule.schedule, concurrencyPolicy: 'Forbid', jobTemplate: { spec: jobTemplate(app, service, schedule, name) } },
    };
  });
}
