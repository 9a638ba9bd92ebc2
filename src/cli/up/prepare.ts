/**
 * What `diploid up` puts in the bed's cluster before the controller runs: namespaces whose pods
 * run on the real node, BuildKit's settings for the bed's plain-HTTP registry, and the Secrets
 * the example and the controller read, filled with random values (a demo's, never a user's).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../../backends/kubernetes/objects.js';

type Log = (line: string) => void;

function isNotFound(error: unknown): boolean {
  return error instanceof k8s.ApiException && error.code === 404;
}

/** Creates the namespace, or adds the annotations to it when it exists without them. */
export async function ensureAnnotatedNamespace(kube: k8s.KubeConfig, name: string, annotations: Record<string, string>, log: Log): Promise<void> {
  const core = kube.makeApiClient(k8s.CoreV1Api);
  let existing: k8s.V1Namespace;
  try {
    existing = await core.readNamespace({ name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await core.createNamespace({ body: { metadata: { name, annotations } } });
    log(`namespace ${name}: created, its pods run on the bed's real node`);
    return;
  }
  const have = existing.metadata?.annotations ?? {};
  if (Object.entries(annotations).every(([key, value]) => have[key] === value)) return;
  existing.metadata = { ...existing.metadata, annotations: { ...have, ...annotations } };
  await core.replaceNamespace({ name, body: existing });
  log(`namespace ${name}: its pods now run on the bed's real node (pods it already has stay where they are)`);
}

/** Writes (or replaces) a ConfigMap. */
export async function putConfigMap(kube: k8s.KubeConfig, namespace: string, name: string, data: Record<string, string>): Promise<void> {
  const core = kube.makeApiClient(k8s.CoreV1Api);
  const body: k8s.V1ConfigMap = { metadata: { name, namespace }, data };
  try {
    await core.replaceNamespacedConfigMap({ name, namespace, body });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await core.createNamespacedConfigMap({ namespace, body });
  }
}

/**
 * Creates Secret `name` with a random value per key when it is missing; adds missing keys to one
 * that exists. Values are never printed.
 */
export async function ensureRandomSecret(kube: k8s.KubeConfig, namespace: string, name: string, keys: readonly string[], log: Log): Promise<void> {
  const core = kube.makeApiClient(k8s.CoreV1Api);
  const random = (): string => randomBytes(24).toString('base64url');
  let existing: k8s.V1Secret | undefined;
  try {
    existing = await core.readNamespacedSecret({ name, namespace });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (existing === undefined) {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name, namespace }, stringData: Object.fromEntries(keys.map((key) => [key, random()])) } });
    log(`secret ${namespace}/${name}: created with random ${keys.join(', ')}`);
    return;
  }
  const missing = keys.filter((key) => existing.data?.[key] === undefined);
  if (missing.length === 0) return;
  existing.stringData = Object.fromEntries(missing.map((key) => [key, random()]));
  await core.replaceNamespacedSecret({ name, namespace, body: existing });
  log(`secret ${namespace}/${name}: added random ${missing.join(', ')}`);
}

/** The Secrets (name -> keys) rendered objects read: env `secretKeyRef`s, `envFrom`s and secret volumes. Pure. */
export function secretsReadBy(objects: readonly KubeObject[]): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const add = (name: string | undefined, key?: string): void => {
    if (name === undefined) return;
    const keys = found.get(name) ?? new Set<string>();
    if (key !== undefined) keys.add(key);
    found.set(name, keys);
  };
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    const ref = record['secretKeyRef'] as { name?: string; key?: string } | undefined;
    if (ref !== undefined) add(ref.name, ref.key);
    const envFrom = record['secretRef'] as { name?: string } | undefined;
    if (envFrom !== undefined) add(envFrom.name);
    const volume = record['secret'] as { secretName?: string; items?: Array<{ key?: string }> } | undefined;
    if (volume?.secretName !== undefined) for (const item of volume.items ?? [{}]) add(volume.secretName, item.key);
    for (const child of Object.values(record)) visit(child);
  };
  for (const object of objects) visit(object);
  return found;
}

/**
 * The administrator's part for volume claims on the bed, which has no storage provisioner: one
 * host folder per claim, as a PersistentVolume reserved for that claim.
 */
export async function provideVolumes(kube: k8s.KubeConfig, objects: readonly KubeObject[], folder: (claim: string) => string, log: Log): Promise<void> {
  const core = kube.makeApiClient(k8s.CoreV1Api);
  for (const claim of objects.filter((object) => object.kind === 'PersistentVolumeClaim')) {
    const name = claim.metadata?.name ?? '';
    const namespace = claim.metadata?.namespace ?? '';
    const spec = (claim as { spec?: { accessModes?: string[]; resources?: { requests?: { storage?: string } } } }).spec;
    const volume = `up-${namespace}-${name}`.slice(0, 253);
    try {
      const existing = await core.readPersistentVolume({ name: volume });
      if (existing.status?.phase === 'Released' && existing.spec !== undefined) {
        // Its claim was deleted (the namespace with it): the folder, kept, goes to the claim of that name again.
        existing.spec.claimRef = { namespace, name };
        await core.replacePersistentVolume({ name: volume, body: existing });
        log(`volume ${volume}: released by a deleted claim, reserved for ${namespace}/${name} again`);
      }
      continue;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const path = folder(`${namespace}-${name}`);
    mkdirSync(path, { recursive: true });
    // Any uid the service runs as may write: a host folder knows nothing of the pod's fsGroup.
    chmodSync(path, 0o777);
    await core.createPersistentVolume({
      body: {
        metadata: { name: volume },
        spec: {
          capacity: { storage: spec?.resources?.requests?.storage ?? '1Gi' },
          accessModes: spec?.accessModes ?? ['ReadWriteOnce'],
          hostPath: { path, type: 'Directory' },
          claimRef: { namespace, name },
          persistentVolumeReclaimPolicy: 'Retain',
        },
      },
    });
    log(`volume ${volume}: host folder ${path} for claim ${namespace}/${name}`);
  }
}
