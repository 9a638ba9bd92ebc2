import type { ResolvedProbe, ResolvedProbeCheck, ResolvedService } from '../../resolve/model.js';
import type { ComposeContext } from './context.js';
import { shellWord } from './text.js';
import type { ComposeHealthcheck } from './types.js';
import { duration } from './units.js';

/** Kubernetes checks every 10 seconds; docker's own default (30s) would hold dependents back. */
const DEFAULT_PERIOD = 10;
const DEFAULT_FAILURES = 3;

/**
 * Compose has one health check per container. Readiness is the one that matters to compose
 * (`depends_on: service_healthy` waits for it); a startup probe becomes the grace period.
 * HTTP, TCP and gRPC checks become commands that run inside the container, so the image
 * must carry the tool: wget or curl, nc, grpc_health_probe.
 */
export function healthcheck(context: ComposeContext, service: ResolvedService): ComposeHealthcheck | undefined {
  const { readiness, liveness, startup } = service.health;
  const main = readiness ?? liveness ?? startup;
  if (main === undefined) return undefined;
  const notes: string[] = [];
  const tool = TOOLS[main.check.kind];
  if (tool !== undefined) notes.push(`the ${main.check.kind} check runs ${tool} inside the container, which the image must have`);
  if (liveness !== undefined) notes.push('a failing container is marked unhealthy but not restarted, as liveness would');
  if (readiness !== undefined && liveness !== undefined && !sameCheck(readiness, liveness)) notes.push('the liveness check differs from readiness and is left out');
  if (notes.length > 0) context.warn(service.name, 'health', notes.join('; '));

  const result: ComposeHealthcheck = { test: testOf(main.check), interval: duration(main.period ?? DEFAULT_PERIOD) };
  if (main.timeout !== undefined) result.timeout = duration(main.timeout);
  if (main.failureThreshold !== undefined) result.retries = main.failureThreshold;
  const start = startPeriod(main, main === startup ? undefined : startup);
  if (start > 0) result.start_period = duration(start);
  return result;
}

const TOOLS: Partial<Record<ResolvedProbeCheck['kind'], string>> = { http: 'wget or curl', tcp: 'nc', grpc: 'grpc_health_probe' };

function testOf(check: ResolvedProbeCheck): string[] {
  switch (check.kind) {
    case 'exec':
      return ['CMD', ...check.command];
    case 'tcp':
      return ['CMD-SHELL', `nc -z -w 2 127.0.0.1 ${check.port.port}`];
    case 'grpc':
      return ['CMD', 'grpc_health_probe', `-addr=127.0.0.1:${check.port.port}`, ...(check.service === undefined ? [] : [`-service=${check.service}`])];
    case 'http': {
      const url = shellWord(`${check.scheme.toLowerCase()}://127.0.0.1:${check.port.port}${check.path}`);
      const headers = check.headers.map((header) => shellWord(`${header.name}: ${header.value}`));
      const https = check.scheme === 'HTTPS';
      const wget = ['wget -q -O /dev/null', ...(https ? ['--no-check-certificate'] : []), ...headers.map((header) => `--header ${header}`), url];
      const curl = ['curl -fsS -o /dev/null', ...(https ? ['-k'] : []), ...headers.map((header) => `-H ${header}`), url];
      return ['CMD-SHELL', `${wget.join(' ')} || ${curl.join(' ')}`];
    }
  }
}

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
