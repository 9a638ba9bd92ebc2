import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';
import { serviceLabels } from './labels.js';
import type { KubeObject } from './objects.js';

/**
 * Gateway API route. TLS is the Gateway listener's business, so routes carry none. CORS headers
 * are set with the standard-channel ResponseHeaderModifier filter; the `CORS` filter is still
 * experimental, and clusters on the standard channel refuse routes that use it.
 */
export function httpRoute(app: ResolvedApp, service: ResolvedService, warn: (message: string) => void): KubeObject | undefined {
  if (service.routes.length === 0 || app.ingress.gateway === undefined) return undefined;
  const gateway = app.ingress.gateway;
  const filters = service.cors === undefined ? [] : [corsFilter(service, warn)];
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

function corsFilter(service: ResolvedService, warn: (message: string) => void) {
  const cors = service.cors;
  if (cors === undefined) throw new Error('corsFilter needs cors');
  if (cors.origins.length > 1) {
    warn(`service "${service.name}": cors.origins has ${cors.origins.length} origins, but a Gateway API header filter can send only one; only ${cors.origins[0]} is allowed`);
  }
  warn(`service "${service.name}": with ingress.api "gateway", CORS preflight (OPTIONS) requests reach the app, which must answer them`);
  const headers = [
    { name: 'Access-Control-Allow-Origin', value: cors.origins[0] ?? '*' },
    { name: 'Access-Control-Allow-Methods', value: cors.methods.join(', ') },
    { name: 'Access-Control-Allow-Headers', value: cors.headers.join(', ') },
    { name: 'Access-Control-Max-Age', value: String(cors.maxAge) },
    ...(cors.credentials ? [{ name: 'Access-Control-Allow-Credentials', value: 'true' }] : []),
  ];
  return { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: headers } };
}
