import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { workloadKind } from '../../model/kubernetes-names.js';
import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';
import type { FilesPlan } from './files.js';
import { selectorLabels, serviceLabels } from './labels.js';
import { podTemplate } from './pod.js';
import { claimSpec, claims, persistentVolumes } from './storage.js';

export type Workload = IDeployment | IStatefulSet | IDaemonSet;

/**
 * One instance per host runs as a DaemonSet; persistent volumes with several replicas need a
 * StatefulSet (a claim per replica); everything else is a Deployment. A single replica with a
 * persistent volume stays a Deployment that replaces its pod (`Recreate`), since a rolling
 * update would wait forever for a volume only one pod can mount.
 */
export function workload(app: ResolvedApp, service: ResolvedService, files: FilesPlan): { workload: Workload; claims: ReturnType<typeof claims> } {
  const metadata = { name: service.name, namespace: app.environment.namespace, labels: serviceLabels(app, service) };
  const selector = { matchLabels: selectorLabels(app, service) };
  const persistent = persistentVolumes(service);
  const kind = workloadKind(service.replicas, persistent.length > 0);
  if (kind === 'DaemonSet') {
    const daemonSet: IDaemonSet = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata, spec: { selector, template: podTemplate(app, service, files, 'claim') } };
    return { workload: daemonSet, claims: claims(app, service) };
  }
  const replicas = service.replicas.kind === 'fixed' ? service.replicas.count : undefined;
  if (kind === 'StatefulSet') {
    const statefulSet: IStatefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata,
      spec: {
        ...(replicas === undefined ? {} : { replicas }),
        serviceName: service.name,
        selector,
        template: podTemplate(app, service, files, 'template'),
        volumeClaimTemplates: persistent.map((volume) => ({ metadata: { name: volume.name, labels: serviceLabels(app, service) }, spec: claimSpec(volume) })),
      },
    };
    return { workload: statefulSet, claims: [] };
  }
  const deployment: IDeployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      // An autoscaled Deployment leaves replicas to its HorizontalPodAutoscaler.
      ...(replicas === undefined ? {} : { replicas }),
      selector,
      ...(persistent.length > 0 ? { strategy: { type: 'Recreate' } } : {}),
      template: podTemplate(app, service, files, 'claim'),
    },
  };
  return { workload: deployment, claims: claims(app, service) };
}

