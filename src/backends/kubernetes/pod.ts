import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { waitStepName } from '../../model/kubernetes-names.js';
import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';
import { envVar, extraContainer, resourcesOf } from './containers.js';
import type { FilesPlan } from './files.js';
import { selectorLabels, serviceLabels, sortKeys } from './labels.js';
import { probe } from './probes.js';
import { containerSecurity, podSecurity, utilityContainerSecurity } from './security.js';
import { claimName } from './storage.js';

/** Volume sources decided by the workload: a StatefulSet claims per replica, a Deployment shares a claim. */
export type PersistentVolumeMode = 'claim' | 'template';

export function podTemplate(app: ResolvedApp, service: ResolvedService, files: FilesPlan, persistence: PersistentVolumeMode): IPodTemplateSpec {
  const annotations: Record<string, string> = { ...service.podAnnotations };
  if (files.checksum !== undefined) annotations['diploid.dev/files-checksum'] = files.checksum;
  // The resolver refuses pod labels that diploid sets, so the selector's labels stay diploid's.
  const metadata = { labels: sortKeys({ ...service.podLabels, ...serviceLabels(app, service) }), ...(Object.keys(annotations).length > 0 ? { annotations: sortKeys(annotations) } : {}) };
  return { metadata, spec: podSpec(app, service, files, persistence) };
}

function podSpec(app: ResolvedApp, service: ResolvedService, files: FilesPlan, persistence: PersistentVolumeMode): IPodSpec {
  const spec: IPodSpec = {
    securityContext: podSecurity(service),
    containers: [mainContainer(service, files)],
  };
  const mounts = volumeMounts(service, files);
  // Native sidecars (init containers that keep running) start first, so steps after them can use them.
  const sidecars = service.sidecars.map((sidecar) => ({ ...extraContainer(service, sidecar, mounts), restartPolicy: 'Always' }));
  const steps = service.init.map((step) => extraContainer(service, step, mounts));
  const initContainers = [...sidecars, ...waitSteps(app, service), ...files.initContainers, ...steps];
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

function volumeMounts(service: ResolvedService, files: FilesPlan): IVolumeMount[] {
  return [...service.volumes.map((volume) => ({ name: volume.name, mountPath: volume.path })), ...files.mounts];
}

function mainContainer(service: ResolvedService, files: FilesPlan): IContainer {
  const container: IContainer = { name: service.containerName, image: service.image.ref };
  if (service.command !== undefined) container.command = [...service.command];
  if (service.args !== undefined) container.args = [...service.args];
  if (service.ports.length > 0) {
    container.ports = service.ports.map((port) => ({ name: port.name, containerPort: port.port, protocol: port.protocol === 'udp' ? 'UDP' : 'TCP' }));
  }
  if (service.env.length > 0) container.env = service.env.map(envVar);
  const resources = resourcesOf(service.resources);
  if (resources !== undefined) container.resources = resources;
  const mounts = volumeMounts(service, files);
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

export function ownVolumes(service: ResolvedService, persistence: PersistentVolumeMode): IVolume[] {
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
    command: ['/bin/sh', '-c', waitScript(dependency.service, dependency.port.servicePort, service.afterTimeout)],
    securityContext: utilityContainerSecurity(),
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
  }));
}

/** Waits for a port; with a timeout it gives up, and the pod restarts with the kubelet's back-off. */
function waitScript(host: string, port: number, timeout: number | undefined): string {
  const target = `${host}:${port}`;
  if (timeout === undefined) return `until nc -z -w 2 ${host} ${port}; do echo "waiting for ${target}"; sleep 2; done`;
  return `end=$(($(date +%s)+${timeout})); until nc -z -w 2 ${host} ${port}; do if [ $(date +%s) -ge $end ]; then echo "${target} did not answer within ${timeout}s"; exit 1; fi; echo "waiting for ${target}"; sleep 2; done`;
}

export function placementOf(app: ResolvedApp, service: ResolvedService): Pick<IPodSpec, 'affinity' | 'topologySpreadConstraints'> {
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
