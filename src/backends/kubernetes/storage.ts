import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { claimName as persistentClaimName } from '../../model/kubernetes-names.js';
import type { ResolvedApp, ResolvedService, ResolvedVolume } from '../../resolve/model.js';
import { serviceLabels } from './labels.js';

type PersistentVolume = Extract<ResolvedVolume, { kind: 'persistent' }>;

export function claimName(service: ResolvedService, volume: ResolvedVolume): string {
  return persistentClaimName(service.name, volume.name);
}

export function persistentVolumes(service: ResolvedService): PersistentVolume[] {
  return service.volumes.filter((volume): volume is PersistentVolume => volume.kind === 'persistent');
}

export function claimSpec(volume: PersistentVolume): NonNullable<IPersistentVolumeClaim['spec']> {
  const spec: NonNullable<IPersistentVolumeClaim['spec']> = { accessModes: [volume.accessMode], resources: { requests: { storage: volume.size } } };
  if (volume.storageClass !== undefined) spec.storageClassName = volume.storageClass;
  return spec;
}

export function claims(app: ResolvedApp, service: ResolvedService): IPersistentVolumeClaim[] {
  return persistentVolumes(service).map((volume) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claimName(service, volume), namespace: app.environment.namespace, labels: serviceLabels(app, service) },
    spec: claimSpec(volume),
  }));
}
