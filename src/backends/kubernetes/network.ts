import type { IService } from 'kubernetes-models/v1/Service';
import type { IServicePort } from 'kubernetes-models/v1/ServicePort';
import type { ResolvedApp, ResolvedPort, ResolvedService } from '../../resolve/model.js';
import { selectorLabels, serviceLabels } from './labels.js';

/** The Service that gives a service its stable in-cluster name; none for services without ports. */
export function clusterService(app: ResolvedApp, service: ResolvedService): IService | undefined {
  if (service.ports.length === 0) return undefined;
  const ports = service.ports.map((port) => servicePort(service, port));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, namespace: app.environment.namespace, labels: serviceLabels(app, service) },
    spec: {
      ...(service.expose === undefined || service.expose.name !== undefined ? {} : { type: service.expose.type }),
      selector: selectorLabels(app, service),
      ports,
    },
  };
}

/** With `expose.name`, a second Service for outside traffic; the in-cluster one stays a ClusterIP. */
export function externalService(app: ResolvedApp, service: ResolvedService): IService | undefined {
  const expose = service.expose;
  if (expose?.name === undefined) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: expose.name, namespace: app.environment.namespace, labels: serviceLabels(app, service) },
    spec: { type: expose.type, selector: selectorLabels(app, service), ports: [servicePort(service, expose.port)] },
  };
}

function servicePort(service: ResolvedService, port: ResolvedPort): IServicePort {
  const result: IServicePort = { name: port.name, port: port.servicePort, targetPort: port.name, protocol: port.protocol === 'udp' ? 'UDP' : 'TCP' };
  const appProtocol = APP_PROTOCOLS[port.protocol];
  if (appProtocol !== undefined) result.appProtocol = appProtocol;
  if (service.expose?.nodePort !== undefined && service.expose.port.name === port.name) result.nodePort = service.expose.nodePort;
  return result;
}

/** Tells proxies and meshes what speaks on a port; h2c is the standard name for cleartext HTTP/2. */
const APP_PROTOCOLS: Partial<Record<ResolvedPort['protocol'], string>> = {
  http: 'http',
  http2: 'kubernetes.io/h2c',
  grpc: 'kubernetes.io/h2c',
};
