import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IIngressRule } from 'kubernetes-models/networking.k8s.io/v1/IngressRule';
import type { ResolvedApp, ResolvedRoute, ResolvedService } from '../../resolve/model.js';
import { serviceLabels, sortKeys } from './labels.js';
import { corsMiddlewareRef, isTraefikClass, TRAEFIK_MIDDLEWARES } from './traefik.js';

const NGINX = 'nginx.ingress.kubernetes.io';

/**
 * One Ingress per service with routes; CORS and gRPC become ingress-nginx annotations, or for a
 * Traefik class, CORS is a Middleware (traefik.ts) the Ingress refers to.
 */
export function ingress(app: ResolvedApp, service: ResolvedService, warn: (message: string) => void): IIngress | undefined {
  if (service.routes.length === 0) return undefined;
  const annotations: Record<string, string> = {};
  const nginx = app.ingress.className === undefined || app.ingress.className.includes('nginx');
  if (service.cors !== undefined && isTraefikClass(app.ingress.className)) {
    annotations[TRAEFIK_MIDDLEWARES] = corsMiddlewareRef(app, service);
  } else if (service.cors !== undefined) {
    if (!nginx) warn(`service "${service.name}": cors is set as ingress-nginx annotations, which ingress class "${app.ingress.className}" ignores; answer CORS in the app, use a nginx or traefik class, or ingress.api "gateway"`);
    Object.assign(annotations, {
      [`${NGINX}/enable-cors`]: 'true',
      [`${NGINX}/cors-allow-origin`]: service.cors.origins.join(', '),
      [`${NGINX}/cors-allow-methods`]: service.cors.methods.join(', '),
      [`${NGINX}/cors-allow-headers`]: service.cors.headers.join(', '),
      [`${NGINX}/cors-allow-credentials`]: String(service.cors.credentials),
      [`${NGINX}/cors-max-age`]: String(service.cors.maxAge),
    });
  }
  if (service.routes.some((route) => route.port.protocol === 'grpc')) annotations[`${NGINX}/backend-protocol`] = 'GRPC';
  const tlsRoutes = service.routes.filter((route) => route.tls);
  if (tlsRoutes.length > 0 && app.ingress.tls !== undefined) {
    annotations[app.ingress.tls.kind === 'Issuer' ? 'cert-manager.io/issuer' : 'cert-manager.io/cluster-issuer'] = app.ingress.tls.issuer;
  }
  const spec: NonNullable<IIngress['spec']> = {};
  if (app.ingress.className !== undefined) spec.ingressClassName = app.ingress.className;
  if (tlsRoutes.length > 0) spec.tls = [{ hosts: [...new Set(tlsRoutes.map((route) => route.host))].sort(), secretName: `${service.name}-tls` }];
  spec.rules = rules(service.name, service.routes);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: service.name,
      namespace: app.environment.namespace,
      labels: serviceLabels(app, service),
      ...(Object.keys(annotations).length > 0 ? { annotations: sortKeys(annotations) } : {}),
    },
    spec,
  };
}

function rules(serviceName: string, routes: readonly ResolvedRoute[]): IIngressRule[] {
  const byHost = new Map<string, ResolvedRoute[]>();
  for (const route of routes) byHost.set(route.host, [...(byHost.get(route.host) ?? []), route]);
  return [...byHost.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, hostRoutes]) => ({
      host,
      http: {
        paths: hostRoutes.map((route) => ({
          path: route.path,
          pathType: 'Prefix',
          backend: { service: { name: serviceName, port: { name: route.port.name } } },
        })),
      },
    }));
}
