import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { waitStepName } from '../../model/kubernetes-names.js';
import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';
import type { FilesPlan } from './files.js';
import { selectorLabels, serviceLabels, sortKeys } from './labels.js';
import { probe } from './probes.js';
import { containerSecurity, podSecurity, utilityContainerSecurity } from './security.js';
import { claimName } from './storage.js';

/** Volume sources decided by the workload: a StatefulSet claims per replica, a Deployment shares a claim. */
export type PersistentVolumeMode = 'claim' | 'template';

export function podTemplate(app: ResolvedApp, service: ResolvedService, files: FilesPlan, persistence: PersistentVolumeMode): IPodTemplateSpec {
  const annotations: Record<string, string> = {};
  if (files.checksum !== undefined) annotations['diploid.dev/files-checksum'] = files.checksum;
  const metadata = { labels: serviceLabels(app, service), ...(Object.keys(annotations).length > 0 ? { annotations: sortKeys(annotations) } : {}) };
  return { metadata, spec: podSpec(app, service, files, persistence) };
}

function podSpec(app: ResolvedApp, service: ResolvedService, files: FilesPlan, persistence: PersistentVolumeMode): IPodSpec {
  const spec: IPodSpec = {
    securityContext: podSecurity(service),
    containers: [mainContainer(service, files)],
  };
  const initContainers = [...waitSteps(app, service), ...files.initContainers];
  if (initContainers.length > 0) spec.initContainers = initContainers;
  const volumes = [...ownVolumes(service, persistence), ...files.volumes];
  if (volumes.length > 0) spec.volumes = volumes;
  if (service.serviceAccount.kind === 'none') spec.automountServiceAccountToken = false;
  else spec.serviceAccountName = service.serviceAccount.kind === 'own' ? service.name : service.serviceAccount.name;
  if (app.pullSecret !== undefined) spec.imagePullSecrets = [{ name: app.pullSecret }];
  if (service.gracePeriod !== undefined) spec.terminationGracePeriodSeconds = service.gracePeriod;
  const placement = placementOf(app, service);
  return { ...spec, ...placement };
}

function mainContainer(service: ResolvedService, files: FilesPlan): IContainer {
  const container: IContainer = { name: service.name, image: service.image.ref };
  if (service.command !== undefined) container.command = [...service.command];
  if (service.args !== undefined) container.args = [...service.args];
  if (service.ports.length > 0) {
    container.ports = service.ports.map((port) => ({ name: port.name, containerPort: port.port, protocol: port.protocol === 'udp' ? 'UDP' : 'TCP' }));
  }
  if (service.env.length > 0) container.env = service.env.map(envVar);
  const resources = resourcesOf(service);
  if (resources !== undefined) container.resources = resources;
  const mounts: IVolumeMount[] = [...service.volumes.map((volume) => ({ name: volume.name, mountPath: volume.path })), ...files.mounts];
  if (mounts.length > 0) container.volumeMounts = mounts;
  const readiness = probe(service.health.readiness);
  const liveness = probe(service.health.liveness);
  const startup = probe(service.health.startup);
  if (readiness) container.readinessProbe = readiness;
  if (liveness) container.livenessProbe = liveness;
  if (startup) container.startupProbe = startup;
  container.securityContext = containerSecurity(service);
  return container;
}

function envVar(variable: ResolvedService['env'][number]): IEnvVar {
  return variable.value.kind === 'literal'
    ? { name: variable.name, value: variable.value.value }
    : { name: variable.name, valueFrom: { secretKeyRef: { name: variable.value.secret, key: variable.value.key } } };
}

function resourcesOf(service: ResolvedService): IContainer['resources'] {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  for (const kind of ['cpu', 'memory'] as const) {
    const range = service.resources[kind];
    if (range?.request !== undefined) requests[kind] = range.request;
    if (range?.limit !== undefined) limits[kind] = range.limit;
  }
  const resources: NonNullable<IContainer['resources']> = {};
  if (Object.keys(requests).length > 0) resources.requests = requests;
  if (Object.keys(limits).length > 0) resources.limits = limits;
  return Object.keys(resources).length > 0 ? resources : undefined;
}

function ownVolumes(service: ResolvedService, persistence: PersistentVolumeMode): IVolume[] {
  const volumes: IVolume[] = [];
  for (const volume of service.volumes) {
    if (volume.kind === 'scratch') {
      const emptyDir: NonNullable<IVolume['emptyDir']> = {};
      if (volume.memory) emptyDir.medium = 'Memory';
      if (volume.sizeLimit !== undefined) emptyDir.sizeLimit = volume.sizeLimit;
      volumes.push({ name: volume.name, emptyDir });
    } else if (persistence === 'claim') {
      volumes.push({ name: volume.name, persistentVolumeClaim: { claimName: claimName(service, volume) } });
    }
  }
  return volumes;
}

/** One init step per dependency: wait until its port answers. */
function waitSteps(app: ResolvedApp, service: ResolvedService): IContainer[] {
  return service.after.map((dependency) => ({
    name: waitStepName(dependency.service),
    image: app.images.utility,
    command: [
      '/bin/sh',
      '-c',
      `until nc -z -w 2 ${dependency.service} ${dependency.port.servicePort}; do echo "waiting for ${dependency.service}:${dependency.port.servicePort}"; sleep 2; done`,
    ],
    securityContext: utilityContainerSecurity(),
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
  }));
}

function placementOf(app: ResolvedApp, service: ResolvedService): Pick<IPodSpec, 'affinity' | 'topologySpreadConstraints'> {
  const labelSelector = { matchLabels: selectorLabels(app, service) };
  if (service.placement === 'one-per-host' && service.replicas.kind !== 'per-host') {
    return { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector, topologyKey: 'kubernetes.io/hostname' }] } } };
  }
  if (service.placement === 'spread') {
    return {
      topologySpreadConstraints: [
        // Honor: a node whose taints the pods don't tolerate is no place to spread to; counting
        // it (the default) leaves replicas Pending on any cluster with a tainted node.
        { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector },
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector },
      ],
    };
  }
  return {};
}
