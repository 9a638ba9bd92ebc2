import type { ResolvedImage, ResolvedService } from '../../resolve/model.js';
import { deployOf } from './deploy.js';
import type { FilesPlan } from './files.js';
import { healthcheck } from './health.js';
import type { ComposeContext, Interpolated } from './context.js';
import { securityOf } from './security.js';
import type { ComposeBuild, ComposeService } from './types.js';
import { duration } from './units.js';
import { volumeMounts } from './volumes.js';

/** A service before dependencies are known; values may still hold `Interpolated` text. */
export type DraftService = Omit<ComposeService, 'environment' | 'build'> & {
  environment?: Record<string, string | Interpolated>;
  build?: Omit<ComposeBuild, 'context'> & { context: string | Interpolated };
};

/**
 * One resolved service as a compose service. Kubernetes' `command` replaces the image's
 * entrypoint and `args` its command, which in compose are `entrypoint` and `command`.
 */
export function composeService(context: ComposeContext, service: ResolvedService, files: FilesPlan): DraftService {
  const result: DraftService = { image: service.image.ref };
  if (service.image.kind === 'build') result.build = buildOf(context, service.image);
  if (service.command !== undefined) result.entrypoint = [...service.command];
  if (service.args !== undefined) result.command = [...service.args];
  if (service.env.length > 0) {
    result.environment = Object.fromEntries(
      service.env.map((variable) => [variable.name, variable.value.kind === 'literal' ? variable.value.value : context.secretVariable(variable.value.secret, variable.value.key)]),
    );
  }
  if (files.configs.length > 0) result.configs = files.configs;
  const volumes = [...volumeMounts(context, service), ...files.volumes];
  if (volumes.length > 0) result.volumes = volumes;
  if (service.ports.length > 0) result.expose = service.ports.map((port) => portText(port.port, port.protocol));
  const published = publishedPorts(context, service);
  if (published.length > 0) result.ports = published;
  const check = healthcheck(context, service);
  if (check !== undefined) result.healthcheck = check;
  const deploy = deployOf(context, service);
  if (deploy !== undefined) result.deploy = deploy;
  result.restart = 'unless-stopped';
  if (service.gracePeriod !== undefined) result.stop_grace_period = duration(service.gracePeriod);
  Object.assign(result, securityOf(context, service));
  const labels = { ...service.podLabels, ...service.labels };
  if (Object.keys(labels).length > 0) result.labels = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
  unsupported(context, service);
  return result;
}

export function buildOf(context: ComposeContext, image: Extract<ResolvedImage, { kind: 'build' }>): NonNullable<DraftService['build']> {
  const build: NonNullable<DraftService['build']> = { context: context.repoPath(image.repo, image.context) };
  if (image.inlineDockerfile !== undefined) build.dockerfile_inline = image.inlineDockerfile;
  else build.dockerfile = image.dockerfile;
  const args = Object.entries(image.args).sort(([a], [b]) => a.localeCompare(b));
  if (args.length > 0) build.args = Object.fromEntries(args);
  if (image.target !== undefined) build.target = image.target;
  return build;
}

function portText(port: number, protocol: string): string {
  return protocol === 'udp' ? `${port}/udp` : String(port);
}

/**
 * Ports other services reach are open on the compose network as they are (addresses name the
 * container's port: see `addressPorts`); `expose` publishes one on the host.
 */
function publishedPorts(context: ComposeContext, service: ResolvedService): string[] {
  if (service.expose === undefined) return [];
  const { port, nodePort, type } = service.expose;
  const hostPort = type === 'NodePort' && nodePort !== undefined ? nodePort : port.servicePort;
  const replicas = service.replicas;
  if ((replicas.kind === 'fixed' && replicas.count > 1) || (replicas.kind === 'auto' && replicas.max > 1)) {
    context.warn(service.name, 'expose', `host port ${hostPort} can be published by one container only; more replicas fail to start`);
  }
  return [`${hostPort}:${portText(port.port, port.protocol)}`];
}

/** Kubernetes-only settings: named once each, never dropped in silence. */
function unsupported(context: ComposeContext, service: ResolvedService): void {
  if (service.serviceAccount.kind === 'own') context.warn(service.name, 'serviceAccount', 'compose has no service accounts; the container gets no API identity');
  if (service.serviceAccount.kind === 'existing') context.warn(service.name, 'serviceAccount', `compose has no service accounts; "${service.serviceAccount.name}" is not used`);
  if (service.disruption !== undefined) context.warn(service.name, 'disruption', 'compose has no disruption budgets; updates and restarts do not wait for other replicas');
}
