import { createHash } from 'node:crypto';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { filesConfigMapName, RESERVED_VOLUME_NAMES, templatesConfigMapName } from '../../model/kubernetes-names.js';
import type { ResolvedApp, ResolvedFile, ResolvedService } from '../../resolve/model.js';
import { serviceLabels } from './labels.js';
import { utilityContainerSecurity } from './security.js';

/** Volumes, mounts and steps that put a service's config files in place. */
export interface FilesPlan {
  readonly configMaps: IConfigMap[];
  readonly volumes: IVolume[];
  readonly mounts: IVolumeMount[];
  readonly initContainers: IContainer[];
  /** Changes whenever a file changes, so pods roll even though the ConfigMap name does not. */
  readonly checksum?: string;
}

const [PLAIN_VOLUME, TEMPLATE_VOLUME, RENDERED_VOLUME] = RESERVED_VOLUME_NAMES;
const RENDERED_DIR = '/rendered';
const TEMPLATE_DIR = '/templates';

/**
 * Files with only known values go into a ConfigMap, mounted file by file. Files that hold a
 * secret are kept as templates with markers; an init step fills the markers from the secrets
 * (passed as env vars) into a memory-backed folder. The secret never appears in any object.
 */
export function planFiles(app: ResolvedApp, service: ResolvedService): FilesPlan {
  if (service.files.length === 0) return { configMaps: [], volumes: [], mounts: [], initContainers: [] };
  const plain = service.files.filter((file) => !file.hasSecrets);
  const withSecrets = service.files.filter((file) => file.hasSecrets);
  const configMaps: IConfigMap[] = [];
  const volumes: IVolume[] = [];
  const mounts: IVolumeMount[] = [];
  const initContainers: IContainer[] = [];
  const metadata = (name: string) => ({ name, namespace: app.environment.namespace, labels: serviceLabels(app, service) });

  if (plain.length > 0) {
    const name = filesConfigMapName(service.name);
    configMaps.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(name), data: dataOf(plain, (file) => textOf(file)) });
    volumes.push({ name: PLAIN_VOLUME, configMap: { name, items: plain.map((file) => itemOf(file)) } });
    for (const file of plain) mounts.push({ name: PLAIN_VOLUME, mountPath: file.path, subPath: file.key, readOnly: true });
  }
  if (withSecrets.length > 0) {
    const name = templatesConfigMapName(service.name);
    const secrets = secretMarkers(withSecrets);
    configMaps.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(name), data: dataOf(withSecrets, (file) => templateOf(file, secrets.markers)) });
    volumes.push({ name: TEMPLATE_VOLUME, configMap: { name } }, { name: RENDERED_VOLUME, emptyDir: { medium: 'Memory' } });
    initContainers.push({
      name: 'render-files',
      image: app.images.utility,
      command: ['/bin/sh', '-c', renderScript(withSecrets)],
      env: secrets.env,
      volumeMounts: [
        { name: TEMPLATE_VOLUME, mountPath: TEMPLATE_DIR, readOnly: true },
        { name: RENDERED_VOLUME, mountPath: RENDERED_DIR },
      ],
      securityContext: utilityContainerSecurity(),
      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
    });
    for (const file of withSecrets) mounts.push({ name: RENDERED_VOLUME, mountPath: file.path, subPath: file.key, readOnly: true });
  }
  const checksum = createHash('sha256')
    .update(JSON.stringify(configMaps.map((map) => map.data)))
    .digest('hex')
    .slice(0, 16);
  return { configMaps, volumes, mounts, initContainers, checksum };
}

function dataOf(files: readonly ResolvedFile[], content: (file: ResolvedFile) => string): Record<string, string> {
  return Object.fromEntries([...files].sort((a, b) => a.key.localeCompare(b.key)).map((file) => [file.key, content(file)]));
}

function itemOf(file: ResolvedFile) {
  return file.mode === undefined ? { key: file.key, path: file.key } : { key: file.key, path: file.key, mode: file.mode };
}

function textOf(file: ResolvedFile): string {
  return file.parts.map((part) => ('text' in part ? part.text : '')).join('');
}

function secretMarkers(files: readonly ResolvedFile[]): { markers: Map<string, string>; env: IEnvVar[] } {
  const markers = new Map<string, string>();
  const env: IEnvVar[] = [];
  for (const file of files) {
    for (const part of file.parts) {
      if (!('secret' in part)) continue;
      const id = `${part.secret}/${part.key}`;
      if (markers.has(id)) continue;
      const variable = `DIPLOID_SECRET_${markers.size + 1}`;
      markers.set(id, variable);
      env.push({ name: variable, valueFrom: { secretKeyRef: { name: part.secret, key: part.key } } });
    }
  }
  return { markers, env };
}

function templateOf(file: ResolvedFile, markers: ReadonlyMap<string, string>): string {
  return file.parts.map((part) => ('text' in part ? part.text : `@@${markers.get(`${part.secret}/${part.key}`)}@@`)).join('');
}

/** awk reads each marker's value from the environment: no quoting of secret values is needed. */
function renderScript(files: readonly ResolvedFile[]): string {
  const awk =
    "awk '{ line = $0; out = \"\"; while (match(line, /@@DIPLOID_SECRET_[0-9]+@@/)) { out = out substr(line, 1, RSTART - 1) ENVIRON[substr(line, RSTART + 2, RLENGTH - 4)]; line = substr(line, RSTART + RLENGTH) } print out line }'";
  const lines = ['set -eu'];
  for (const file of [...files].sort((a, b) => a.key.localeCompare(b.key))) {
    lines.push(`${awk} ${TEMPLATE_DIR}/${file.key} > ${RENDERED_DIR}/${file.key}`);
    if (file.mode !== undefined) lines.push(`chmod ${file.mode.toString(8)} ${RENDERED_DIR}/${file.key}`);
  }
  return lines.join('\n');
}
