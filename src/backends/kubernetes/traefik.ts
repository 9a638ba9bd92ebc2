import type { IMiddleware } from '@kubernetes-models/traefik/traefik.io/v1alpha1/Middleware';
import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';
import { serviceLabels } from './labels.js';

/** The Ingress annotation that attaches Traefik middlewares to a route. */
export const TRAEFIK_MIDDLEWARES = 'traefik.ingress.kubernetes.io/router.middlewares';

/** True for an ingress class served by Traefik, which ignores ingress-nginx's annotations. */
export function isTraefikClass(className: string | undefined): boolean {
  return className?.includes('traefik') ?? false;
}

function middlewareName(service: ResolvedService): string {
  return `${service.name}-cors`;
}

/** How an Ingress names the service's CORS middleware: `<namespace>-<name>@kubernetescrd`. */
export function corsMiddlewareRef(app: ResolvedApp, service: ResolvedService): string {
  return `${app.environment.namespace}-${middlewareName(service)}@kubernetescrd`;
}

/**
 * Traefik answers CORS (preflights included) with a `headers` Middleware; an Ingress of a
 * Traefik class refers to it by annotation. Nothing for other classes or without cors.
 */
export function corsMiddleware(app: ResolvedApp, service: ResolvedService): IMiddleware | undefined {
  if (service.cors === undefined || service.routes.length === 0 || app.ingress.api === 'gateway' || !isTraefikClass(app.ingress.className)) return undefined;
  return {
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'Middleware',
    metadata: { name: middlewareName(service), namespace: app.environment.namespace, labels: serviceLabels(app, service) },
    spec: {
      headers: {
        accessControlAllowOriginList: [...service.cors.origins],
        accessControlAllowMethods: [...service.cors.methods],
        accessControlAllowHeaders: [...service.cors.headers],
        accessControlAllowCredentials: service.cors.credentials,
        accessControlMaxAge: service.cors.maxAge,
        addVaryHeader: true,
      },
    },
  };
}
