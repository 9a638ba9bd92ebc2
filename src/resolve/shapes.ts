import { reportField, type ResolveContext } from './context.js';
import { omitUndefined } from './health.js';
import type { MergedService } from './layers.js';
import type { ResolvedContainer, ResolvedEnvVar, ResolvedImage, ResolvedSchedule, ResolvedService, ResolvedTask } from './model.js';
import { envValue, type ReferenceSink } from './references.js';

type Spec = MergedService['spec'];
type ContainerSpec = NonNullable<Spec['init']>[string];

/** Labels diploid sets on pods itself; the selector depends on them, so users may not. */
const RESERVED_POD_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/part-of', 'diploid.dev/environment'];

/** The parts of a service beyond its main container: sidecars, init steps, tasks, schedules, metadata. */
export type ResolvedShapes = Pick<ResolvedService, 'containerName' | 'sidecars' | 'init' | 'tasks' | 'schedules' | 'afterTimeout' | 'annotations' | 'podLabels' | 'podAnnotations'>;

export function resolveShapes(context: ResolveContext, service: MergedService, image: ResolvedImage, env: readonly ResolvedEnvVar[], references: ReferenceSink): ResolvedShapes {
  const spec = service.spec;
  const containerName = spec.containerName ?? service.name;
  const names = new Map<string, string>([[containerName, 'the main container']]);
  const claim = (field: string, name: string) => {
    const taken = names.get(name);
    if (taken !== undefined) reportField(context, service, field, [name], `a container named "${name}" is already ${taken}; containers of one pod need different names`);
    names.set(name, `${field}.${name}`);
  };
  const container = (field: string, name: string, entry: ContainerSpec, inherited: readonly ResolvedEnvVar[]): ResolvedContainer => {
    const own: ResolvedEnvVar[] = [];
    for (const [variable, value] of Object.entries(entry.env ?? {})) {
      const resolved = envValue(context, variable, value, { service, field, segments: [name, 'env', variable] }, references);
      if (resolved !== undefined) own.push({ name: variable, value: resolved });
    }
    const ownNames = new Set(own.map((variable) => variable.name));
    const command = entry.command === undefined ? undefined : typeof entry.command === 'string' ? ['/bin/sh', '-c', entry.command] : entry.command;
    return omitUndefined({
      name,
      image: entry.image ?? image.ref,
      command,
      args: entry.args,
      env: [...inherited.filter((variable) => !ownNames.has(variable.name)), ...own],
      resources: omitUndefined({ cpu: entry.resources?.cpu, memory: entry.resources?.memory }),
    }) as ResolvedContainer;
  };
  const sidecars = Object.entries(spec.sidecars ?? {}).map(([name, entry]) => {
    claim('sidecars', name);
    return container('sidecars', name, entry, []);
  });
  const init = Object.entries(spec.init ?? {}).map(([name, entry]) => {
    claim('init', name);
    if (entry.command === undefined && entry.image === undefined) reportField(context, service, 'init', [name], 'runs the service\'s own image with its own command, which would start the app instead of a step: set command (or image)');
    return container('init', name, entry, []);
  });
  // Tasks and schedules run the app's code (a migration, a report): they get its environment.
  const tasks = Object.entries(spec.tasks ?? {}).map(([name, entry]): ResolvedTask => {
    // The Job is `<service>-<task>-<8-character revision hash>`, a name of at most 63.
    const job = `${service.name}-${name}`;
    if (job.length > 54) reportField(context, service, 'tasks', [name], `its Job would be named "${job}-<hash>" (${job.length + 9} characters); Kubernetes allows 63: shorten the task's name`);
    if (entry.command === undefined && entry.image === undefined) reportField(context, service, 'tasks', [name], 'needs a command (or an image of its own): it would run the app itself');
    return omitUndefined({ ...container('tasks', name, entry, env), retries: entry.retries ?? 0, timeout: entry.timeout }) as ResolvedTask;
  });
  const schedules = Object.entries(spec.schedules ?? {}).map(([name, entry]): ResolvedSchedule => {
    const { schedule, retries, timeout, ...rest } = entry;
    // A CronJob's name leaves 11 characters for the Jobs it creates.
    const cronJob = `${service.name}-${name}`;
    if (cronJob.length > 52) reportField(context, service, 'schedules', [name], `its CronJob would be named "${cronJob}" (${cronJob.length} characters); Kubernetes allows 52: shorten the schedule's name`);
    return omitUndefined({ ...container('schedules', name, rest, env), schedule, retries: retries ?? 0, timeout }) as ResolvedSchedule;
  });
  const podLabels = { ...(spec.pod?.labels ?? {}) };
  for (const key of Object.keys(podLabels)) {
    if (RESERVED_POD_LABELS.includes(key)) reportField(context, service, 'pod', ['labels', key], 'is set by diploid (the Service selects pods by it); choose another key');
  }
  return omitUndefined({
    containerName,
    sidecars,
    init,
    tasks,
    schedules,
    afterTimeout: spec.afterTimeout,
    annotations: spec.annotations ?? {},
    podLabels,
    podAnnotations: spec.pod?.annotations ?? {},
  }) as ResolvedShapes;
}
