import type { ResolvedService } from '../../resolve/model.js';
import type { ComposeContext } from './context.js';
import type { ComposeVolumeMount } from './types.js';
import { bytes } from './units.js';

/** Name of the named volume behind a persistent volume: one per service and path. */
export function volumeName(service: ResolvedService, volume: string): string {
  return `${service.name}-${volume}`;
}

/**
 * Scratch space is a tmpfs (memory-backed either way, capped at its size limit); persistent
 * volumes are named volumes on the docker host, which have no size, class or access mode.
 */
export function volumeMounts(context: ComposeContext, service: ResolvedService): ComposeVolumeMount[] {
  const mounts: ComposeVolumeMount[] = [];
  for (const volume of service.volumes) {
    const setting = `volumes["${volume.path}"]`;
    if (volume.kind === 'scratch') {
      mounts.push(volume.sizeLimit === undefined ? { type: 'tmpfs', target: volume.path } : { type: 'tmpfs', target: volume.path, tmpfs: { size: bytes(volume.sizeLimit) } });
      continue;
    }
    const name = volumeName(service, volume.name);
    context.addVolume(name);
    const notes = [`a named volume has no size, ${volume.size} is not reserved`];
    if (volume.storageClass !== undefined) notes.push(`storage class "${volume.storageClass}" does not apply`);
    if (volume.accessMode !== 'ReadWriteMany' && volume.accessMode !== 'ReadOnlyMany' && manyReplicas(service)) notes.push(`every replica mounts the same volume, despite ${volume.accessMode}`);
    context.warn(service.name, setting, notes.join('; '));
    mounts.push(volume.accessMode === 'ReadOnlyMany' ? { type: 'volume', source: name, target: volume.path, read_only: true } : { type: 'volume', source: name, target: volume.path });
  }
  return mounts;
}

function manyReplicas(service: ResolvedService): boolean {
  return service.replicas.kind === 'auto' ? service.replicas.max > 1 : service.replicas.kind === 'fixed' && service.replicas.count > 1;
}
