import { isIngressHost } from '../model/kubernetes-names.js';
import { reportField, type ResolveContext } from './context.js';
import type { MergedService } from './layers.js';
import type { ResolvedPort, ResolvedRoute } from './model.js';
import { findPort, missingPortMessage } from './ports.js';

type RouteSpec = NonNullable<MergedService['spec']['routes']>[number];

/** Routes with full host names: `'api'` becomes `api.<environment domain>`, `'@'` the domain itself. */
export function resolveRoutes(context: ResolveContext, service: MergedService, ports: readonly ResolvedPort[]): ResolvedRoute[] {
  const routes: ResolvedRoute[] = [];
  (service.spec.routes ?? []).forEach((spec, index) => {
    const route: Exclude<RouteSpec, string> = typeof spec === 'string' ? parseRoute(spec) : spec;
    const host = fullHost(context, route.host ?? '@');
    if (host === undefined) {
      reportField(context, service, 'routes', [index], `host "${route.host ?? '@'}" is relative, but environment "${context.environment.name}" has no domain (set ingress.domain or environments.${context.environment.name}.domain)`);
      return;
    }
    const port = route.port === undefined ? (ports.find((p) => p.protocol.startsWith('http') || p.protocol === 'grpc') ?? ports[0]) : findPort(ports, route.port);
    if (port === undefined) {
      reportField(context, service, 'routes', [index, 'port'], missingPortMessage(service.name, ports, route.port));
      return;
    }
    if (port.protocol === 'udp') {
      reportField(context, service, 'routes', [index, 'port'], `port "${port.name}" is UDP; routes carry HTTP`);
      return;
    }
    if (!isIngressHost(host)) {
      reportField(context, service, 'routes', [index], `host "${host.length > 80 ? `${host.slice(0, 77)}...` : host}" is not a host name Kubernetes accepts: lower-case letters, digits, "-" and ".", each part at most 63 characters (optionally "*." first)`);
      return;
    }
    routes.push({ host, path: route.path ?? '/', port, tls: route.tls ?? context.config.ingress?.tls !== undefined });
  });
  return routes;
}

function parseRoute(text: string): { host?: string; path?: string } {
  const slash = text.indexOf('/');
  if (slash < 0) return { host: text };
  return { host: slash === 0 ? '@' : text.slice(0, slash), path: text.slice(slash) };
}

function fullHost(context: ResolveContext, host: string): string | undefined {
  if (host.includes('.')) return host;
  const domain = context.environment.domain;
  if (domain === undefined) return undefined;
  return host === '@' ? domain : `${host}.${domain}`;
}
