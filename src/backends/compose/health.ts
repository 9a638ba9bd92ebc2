import type { ResolvedProbe, ResolvedProbeCheck, ResolvedService } from '../../resolve/model.js';
import type { ComposeContext } from './context.js';
import type { ComposeHealthcheck } from './types.js';
import { duration } from './units.js';

/** Kubernetes checks every 10 seconds; docker's own default (30s) would hold dependents back. */
const DEFAULT_PERIOD = 10;
const DEFAULT_FAILURES = 3;

/**
 * Compose has one health check per container. Readiness is the one that matters to compose
 * (`depends_on: service_healthy` waits for it); a startup probe becomes the grace period.
 * Compose runs checks inside the container, so HTTP, TCP and gRPC checks would need wget,
 * curl, nc or grpc_health_probe in the image, which nothing guarantees: an image without them
 * never becomes healthy and its dependents never start. Only `exec` checks, the user's own
 * command, become health checks; for the others dependents wait for the start, and a warning
 * says so.
 */
export function healthcheck(context: ComposeContext, service: ResolvedService): ComposeHealthcheck | undefined {
  const { readiness, liveness, startup } = service.health;
  const main = readiness ?? liveness ?? startup;
  if (main === undefined) return undefined;
  if (main.check.kind !== 'exec') {
    context.warn(
      service.name,
      'health',
      `the ${main.check.kind} check would run ${TOOLS[main.check.kind]} inside the container, which the image may lack: no health check in compose, so services that depend on this one wait only for it to start (an exec check is kept as it is)`,
    );
    return undefined;
  }
  const notes: string[] = [];
  if (liveness !== undefined) notes.push('a failing container is marked unhealthy but not restarted, as liveness would');
  if (readiness !== undefined && liveness !== undefined && !sameCheck(readiness, liveness)) notes.push('the liveness check differs from readiness and is left out');
  if (notes.length > 0) context.warn(service.name, 'health', notes.join('; '));

  const result: ComposeHealthcheck = { test: ['CMD', ...main.check.command], interval: duration(main.period ?? DEFAULT_PERIOD) };
  if (main.timeout !== undefined) result.timeout = duration(main.timeout);
  if (main.failureThreshold !== undefined) result.retries = main.failureThreshold;
  const start = startPeriod(main, main === startup ? undefined : startup);
  if (start > 0) result.start_period = duration(start);
  return result;
}

const TOOLS: Record<Exclude<ResolvedProbeCheck['kind'], 'exec'>, string> = { http: 'wget or curl', tcp: 'nc', grpc: 'grpc_health_probe' };

/** Failures during the start period do not count: the initial delay, or the startup probe's budget. */
function startPeriod(main: ResolvedProbe, startup: ResolvedProbe | undefined): number {
  const own = main.initialDelay ?? 0;
  if (startup === undefined) return own;
  const budget = (startup.initialDelay ?? 0) + (startup.period ?? DEFAULT_PERIOD) * (startup.failureThreshold ?? DEFAULT_FAILURES);
  return Math.max(own, budget);
}

function sameCheck(a: ResolvedProbe, b: ResolvedProbe): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
