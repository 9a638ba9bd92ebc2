import type { ResolvedContainer, ResolvedService } from '../../resolve/model.js';
import type { ComposeContext } from './context.js';
import type { DependsOn } from './depends.js';
import { securityOf } from './security.js';
import { buildOf, type DraftService } from './service.js';
import type { DependencyCondition } from './types.js';

/** Compose services that carry a service's sidecars, init steps, tasks and schedules. */
export interface ExtraServices {
  /** By compose service name. */
  readonly services: Map<string, DraftService>;
  /** What the main service waits for: its init steps and tasks, each to complete. */
  readonly before: DependsOn;
  /** Extra services that need what the main service needs (its own `depends_on`). */
  readonly sharing: readonly string[];
}

/** The profile scheduled jobs sit in: `docker compose up` leaves them out, `run` starts one. */
export const SCHEDULES_PROFILE = 'schedules';

/**
 * Sidecars run beside the service; init steps run one after the other and must complete before
 * it starts; tasks (migrations) must complete too, as Kubernetes' pre-rollout Jobs do. Compose
 * runs nothing on a schedule: each schedule becomes a service in the `schedules` profile, for
 * `docker compose run` from the host's cron, and a warning says so.
 */
export function extraServices(context: ComposeContext, service: ResolvedService): ExtraServices {
  const services = new Map<string, DraftService>();
  const before: DependsOn = {};
  const sharing: string[] = [];
  const completed = (_name: string): { condition: DependencyCondition } => ({ condition: 'service_completed_successfully' });
  for (const sidecar of service.sidecars) services.set(`${service.name}-${sidecar.name}`, { ...draft(context, service, sidecar), restart: 'unless-stopped' });
  let previous: string | undefined;
  for (const step of service.init) {
    const name = `${service.name}-${step.name}`;
    const entry: DraftService = { ...draft(context, service, step), restart: 'no' };
    if (previous !== undefined) entry.depends_on = { [previous]: completed(previous) };
    services.set(name, entry);
    sharing.push(name);
    previous = name;
  }
  if (previous !== undefined) before[previous] = completed(previous);
  for (const task of service.tasks) {
    const name = `${service.name}-${task.name}`;
    services.set(name, { ...draft(context, service, task), restart: 'no' });
    sharing.push(name);
    before[name] = completed(name);
  }
  for (const schedule of service.schedules) {
    const name = `${service.name}-${schedule.name}`;
    services.set(name, { ...draft(context, service, schedule), restart: 'no', profiles: [SCHEDULES_PROFILE] });
    context.warn(service.name, `schedules.${schedule.name}`, `compose runs nothing on a schedule ("${schedule.schedule}"): run \`docker compose run --rm ${name}\` from the host's cron`);
  }
  if (Object.keys(service.annotations).length > 0 || Object.keys(service.podAnnotations).length > 0) {
    context.warn(service.name, 'annotations', 'compose has no annotations; they are left out');
  }
  return { services, before, sharing };
}

function draft(context: ComposeContext, service: ResolvedService, container: ResolvedContainer): DraftService {
  const result: DraftService = { image: container.image };
  // The service's own image is built here too, so the step never waits for a pull that cannot succeed.
  if (service.image.kind === 'build' && container.image === service.image.ref) result.build = buildOf(context, service.image);
  if (container.command !== undefined) result.entrypoint = [...container.command];
  if (container.args !== undefined) result.command = [...container.args];
  if (container.env.length > 0) {
    result.environment = Object.fromEntries(
      container.env.map((variable) => [variable.name, variable.value.kind === 'literal' ? variable.value.value : context.secretVariable(variable.value.secret, variable.value.key)]),
    );
  }
  const scratch = service.volumes.filter((volume) => volume.kind === 'scratch');
  if (scratch.length > 0) result.volumes = scratch.map((volume) => ({ type: 'tmpfs', target: volume.path }));
  Object.assign(result, securityOf(context, service));
  return result;
}
