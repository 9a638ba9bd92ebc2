import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { ResolvedContainer, ResolvedEnvVar, ResolvedResources, ResolvedService } from '../../resolve/model.js';
import { containerSecurity } from './security.js';

export function envVar(variable: ResolvedEnvVar): IEnvVar {
  return variable.value.kind === 'literal'
    ? { name: variable.name, value: variable.value.value }
    : { name: variable.name, valueFrom: { secretKeyRef: { name: variable.value.secret, key: variable.value.key } } };
}

export function resourcesOf(resources: ResolvedResources): IContainer['resources'] {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  for (const kind of ['cpu', 'memory'] as const) {
    const range = resources[kind];
    if (range?.request !== undefined) requests[kind] = range.request;
    if (range?.limit !== undefined) limits[kind] = range.limit;
  }
  const result: NonNullable<IContainer['resources']> = {};
  if (Object.keys(requests).length > 0) result.requests = requests;
  if (Object.keys(limits).length > 0) result.limits = limits;
  return Object.keys(result).length > 0 ? result : undefined;
}

/**
 * A sidecar, init step or task container: the service's hardened security context and, so
 * that a read-only root still has somewhere to write, the mounts it is given.
 */
export function extraContainer(service: ResolvedService, container: ResolvedContainer, mounts: readonly IVolumeMount[]): IContainer {
  const result: IContainer = { name: container.name, image: container.image };
  if (container.command !== undefined) result.command = [...container.command];
  if (container.args !== undefined) result.args = [...container.args];
  if (container.env.length > 0) result.env = container.env.map(envVar);
  const resources = resourcesOf(container.resources);
  if (resources !== undefined) result.resources = resources;
  if (mounts.length > 0) result.volumeMounts = [...mounts];
  result.securityContext = containerSecurity(service);
  return result;
}
