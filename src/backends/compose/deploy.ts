import type { ResolvedService } from '../../resolve/model.js';
import type { ComposeContext } from './context.js';
import type { ComposeDeploy } from './types.js';
import { cpus, memory } from './units.js';

/**
 * Replicas, placement and resources. Compose runs on one docker host: one per host is one
 * container (`mode: global`), spreading has nowhere to go, and nothing scales automatically.
 */
export function deployOf(context: ComposeContext, service: ResolvedService): ComposeDeploy | undefined {
  const deploy: ComposeDeploy = {};
  const { replicas } = service;
  if (replicas.kind === 'per-host' || service.placement === 'one-per-host') {
    deploy.mode = 'global';
    if (replicas.kind === 'fixed' && replicas.count > 1) context.warn(service.name, 'placement', `one-per-host with ${replicas.count} replicas runs a single container on the one docker host`);
    if (replicas.kind === 'auto') context.warn(service.name, 'placement', `one-per-host with ${replicas.min}..${replicas.max} replicas runs a single container on the one docker host`);
  } else if (replicas.kind === 'fixed') {
    if (replicas.count !== 1) deploy.replicas = replicas.count;
  } else if (replicas.kind === 'auto') {
    if (replicas.min !== 1) deploy.replicas = replicas.min;
    const targets = [replicas.cpu === undefined ? undefined : `cpu ${replicas.cpu}%`, replicas.memory === undefined ? undefined : `memory ${replicas.memory}%`].filter((target) => target !== undefined);
    context.warn(service.name, 'replicas', `compose does not autoscale (${replicas.min}..${replicas.max} at ${targets.join(', ')}); runs ${replicas.min}`);
  }
  if (service.placement === 'spread') context.warn(service.name, 'placement', 'spread across hosts and zones does not apply: compose runs every replica on one docker host');

  const limits: { cpus?: string; memory?: string } = {};
  const reservations: { cpus?: string; memory?: string } = {};
  const { cpu, memory: mem } = service.resources;
  if (cpu?.limit !== undefined) limits.cpus = cpus(cpu.limit);
  if (mem?.limit !== undefined) limits.memory = memory(mem.limit);
  if (cpu?.request !== undefined) reservations.cpus = cpus(cpu.request);
  if (mem?.request !== undefined) reservations.memory = memory(mem.request);
  if (Object.keys(limits).length > 0 || Object.keys(reservations).length > 0) {
    deploy.resources = {
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(Object.keys(reservations).length > 0 ? { reservations } : {}),
    };
  }
  return Object.keys(deploy).length > 0 ? deploy : undefined;
}
