import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';
import { serviceLabels } from './labels.js';
import type { KubeObject } from './objects.js';

/**
 * Gateway API route. TLS is the Gateway listener's business, so routes carry none; CORS uses
 * the Gateway API `CORS` filter (experimental channel since v1.3), which gateways without it reject.
 */
export function httpRoute(app: ResolvedApp, service: ResolvedService, warn: (message: string) => void): KubeObject | undefined {
  if (service.routes.length === 0 || app.ingress.gateway === undefined) return undefined;
  const gateway = app.ingress.gateway;
  if (service.cors !== undefined) warn(`service "${service.name}": cors uses the Gateway API CORS filter (experimental channel); the Gateway's implementation must support it`);
  const filters =
    service.cors === undefined
      ? []
      : [
          {
            type: 'CORS',
            cors: {
              allowOrigins: [...service.cors.origins],
              allowMethods: [...service.cors.methods],
              allowHeaders: [...service.cors.headers],
              allowCredentials: service.cors.credentials,
              maxAge: service.cors.maxAge,
            },
          },
        ];
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: service.name, namespace: app.environment.namespace, labels: serviceLabels(app, service) },
    spec: {
      parentRefs: [{ name: gateway.name, ...(gateway.namespace === undefined ? {} : { namespace: gateway.namespace }) }],
      hostnames: [...new Set(service.routes.map((route) => route.host))].sort(),
      rules: service.routes.map((route) => ({
        matches: [{ path: { type: 'PathPrefix', value: route.path } }],
        ...(filters.length > 0 ? { filters } : {}),
        backendRefs: [{ name: service.name, port: route.port.servicePort }],
      })),
    },
  };
}
