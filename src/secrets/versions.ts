/**
 * Which version of each encrypted file a service uses, from git object ids alone (never a
 * value): a changed file changes the service's plan fingerprint, so a push that only edits a
 * secret deploys the services that use it, and the pod templates' `diploid.dev/secret-versions`
 * annotation, so their pods restart and read the new value. Pure.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { DEFAULT_SECRETS_DIR } from './layout.js';

/** The pod template annotation that changes when a Secret its pods use changes in git. */
export const SECRET_VERSIONS_ANNOTATION = 'diploid.dev/secret-versions';

/** Names of Secrets a resolved value refers to: `{ kind: 'secret', secret }` and file parts `{ secret, key }`. */
export function referencedSecrets(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencedSecrets(item, found);
  else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.secret === 'string' && typeof record.key === 'string') found.add(record.secret);
    for (const item of Object.values(record)) referencedSecrets(item, found);
  }
  return found;
}

/** The secrets folder a raw (unvalidated) config names. */
export function secretsDirOf(config: unknown): string {
  const dir = (config as { secrets?: { dir?: unknown } } | undefined)?.secrets?.dir;
  return typeof dir === 'string' && dir !== '' ? dir : DEFAULT_SECRETS_DIR;
}

/**
 * A short digest of the git object ids of the files holding `names` for `environment` (its own
 * file first, else the common one); '' when none of them is kept in git.
 */
export function secretVersions(opsObjects: ReadonlyMap<string, string> | undefined, dir: string, environment: string, names: Iterable<string>): string {
  if (opsObjects === undefined) return '';
  const parts: string[] = [];
  for (const name of [...new Set(names)].sort()) {
    const id = ['yaml', 'yml'].flatMap((ext) => [posix.join(dir, environment, `${name}.${ext}`), posix.join(dir, `${name}.${ext}`)]).map((path) => opsObjects.get(path)).find((found) => found !== undefined);
    if (id !== undefined) parts.push(`${name}=${id}`);
  }
  return parts.length === 0 ? '' : createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

/** Secrets a pod spec uses: env, envFrom, volumes and projected volumes. */
function podSecrets(spec: unknown): Set<string> {
  const names = new Set<string>();
  const pod = spec as {
    containers?: Array<{ env?: Array<{ valueFrom?: { secretKeyRef?: { name?: string } } }>; envFrom?: Array<{ secretRef?: { name?: string } }> }>;
    initContainers?: Array<{ env?: Array<{ valueFrom?: { secretKeyRef?: { name?: string } } }>; envFrom?: Array<{ secretRef?: { name?: string } }> }>;
    volumes?: Array<{ secret?: { secretName?: string }; projected?: { sources?: Array<{ secret?: { name?: string } }> } }>;
  } | undefined;
  for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
    for (const variable of container.env ?? []) if (variable.valueFrom?.secretKeyRef?.name !== undefined) names.add(variable.valueFrom.secretKeyRef.name);
    for (const source of container.envFrom ?? []) if (source.secretRef?.name !== undefined) names.add(source.secretRef.name);
  }
  for (const volume of pod?.volumes ?? []) {
    if (volume.secret?.secretName !== undefined) names.add(volume.secret.secretName);
    for (const source of volume.projected?.sources ?? []) if (source.secret?.name !== undefined) names.add(source.secret.name);
  }
  return names;
}

/** The objects, with each workload's pod template annotated with the versions of the Secrets it uses (when kept in git). */
export function annotateSecretVersions(objects: readonly KubeObject[], opsObjects: ReadonlyMap<string, string> | undefined, dir: string, environment: string): KubeObject[] {
  return objects.map((object) => {
    if (!WORKLOADS.has(object.kind)) return object;
    const spec = object.spec as { template?: { metadata?: { annotations?: Record<string, string> }; spec?: unknown } } | undefined;
    const versions = secretVersions(opsObjects, dir, environment, podSecrets(spec?.template?.spec));
    if (versions === '' || spec?.template === undefined) return object;
    const template = { ...spec.template, metadata: { ...spec.template.metadata, annotations: { ...spec.template.metadata?.annotations, [SECRET_VERSIONS_ANNOTATION]: versions } } };
    return { ...object, spec: { ...spec, template } };
  });
}
