import type { ResolvedService } from '../../resolve/model.js';
import type { ComposeContext } from './context.js';
import type { DependencyCondition } from './types.js';

export type DependsOn = Record<string, { condition: DependencyCondition }>;

/**
 * Start order from `after` (what a service waits for) and `references` (what it talks to).
 * A healthy dependency is one whose health check passes; one without a check only has to
 * have started. Compose refuses cycles, and references often form them (an API allows the
 * web origin, the web app calls the API), so `after` is taken first and a reference that
 * would close a cycle is left out: it orders nothing that Kubernetes would have ordered either.
 */
export function dependencies(context: ComposeContext, services: readonly ResolvedService[], healthy: ReadonlySet<string>): Map<string, DependsOn> {
  const names = new Set(services.map((service) => service.name));
  const edges = new Map<string, Set<string>>(services.map((service) => [service.name, new Set<string>()]));
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const current = stack.pop() as string;
      if (current === to) return true;
      if (seen.has(current)) continue;
      seen.add(current);
      stack.push(...(edges.get(current) ?? []));
    }
    return false;
  };
  const add = (from: string, to: string, explicit: boolean) => {
    if (from === to || !names.has(to)) return;
    if (reaches(to, from)) {
      if (explicit) context.warn(from, 'after', `waiting for "${to}" would close a cycle of dependencies, which compose refuses; left out`);
      return;
    }
    edges.get(from)?.add(to);
    if (explicit && !healthy.has(to)) context.warn(from, 'after', `"${to}" has no health check, so compose waits only for it to start, not for its port to answer`);
  };
  for (const service of services) for (const dependency of service.after) add(service.name, dependency.service, true);
  for (const service of services) for (const reference of service.references) add(service.name, reference, false);

  const result = new Map<string, DependsOn>();
  for (const [name, targets] of edges) {
    if (targets.size === 0) continue;
    result.set(name, Object.fromEntries([...targets].sort().map((target) => [target, { condition: healthy.has(target) ? 'service_healthy' : 'service_started' }])));
  }
  return result;
}
