import type { ResolvedFile, ResolvedService } from '../../resolve/model.js';
import type { ComposeContext } from './context.js';
import { hardened } from './security.js';
import type { ComposeFileMount, ComposeService, ComposeVolumeMount } from './types.js';

/** What a service needs to find its config files in place. */
export interface FilesPlan {
  readonly configs: ComposeFileMount[];
  readonly volumes: ComposeVolumeMount[];
  /** A one-shot service that fills secrets into file templates, run before the service starts. */
  readonly renderStep?: { readonly name: string; readonly service: ComposeService };
}

const TEMPLATE_DIR = '/templates';
const RENDERED_DIR = '/rendered';

/** Name of the step that renders a service's files holding secrets. */
export function renderStepName(service: string): string {
  return `${service}-files`;
}

/**
 * Files with only known values are compose configs with inline content. Files holding a secret
 * are kept as templates with markers, as in the Kubernetes backend: a one-shot step reads the
 * secrets (compose secrets, files on the host) and writes the finished files into a volume that
 * the service mounts file by file. No secret value appears in the compose file.
 */
export function planFiles(context: ComposeContext, service: ResolvedService): FilesPlan {
  const configs: ComposeFileMount[] = [];
  const volumes: ComposeVolumeMount[] = [];
  const sorted = [...service.files].sort((a, b) => a.key.localeCompare(b.key));
  for (const file of sorted.filter((candidate) => !candidate.hasSecrets)) {
    const name = `${service.name}-${file.key}`;
    context.addConfig(name, file.parts.map((part) => ('text' in part ? part.text : '')).join(''));
    configs.push(withMode({ source: name, target: file.path }, file.mode));
  }
  const withSecrets = sorted.filter((file) => file.hasSecrets);
  if (withSecrets.length === 0) return { configs, volumes };

  const volume = renderStepName(service.name);
  context.addVolume(volume);
  for (const file of withSecrets) volumes.push({ type: 'volume', source: volume, target: file.path, read_only: true, volume: { subpath: file.key } });
  return { configs, volumes, renderStep: { name: renderStepName(service.name), service: renderStep(context, service, withSecrets, volume) } };
}

function renderStep(context: ComposeContext, service: ResolvedService, files: readonly ResolvedFile[], volume: string): ComposeService {
  const markers = new Map<string, { variable: string; source: string }>();
  for (const file of files) {
    for (const part of file.parts) {
      if (!('secret' in part)) continue;
      const id = `${part.secret}/${part.key}`;
      if (!markers.has(id)) markers.set(id, { variable: `DIPLOID_SECRET_${markers.size + 1}`, source: context.secretFile(part.secret, part.key) });
    }
  }
  const templates: ComposeFileMount[] = files.map((file) => {
    const name = `${service.name}-${file.key}-template`;
    context.addConfig(name, file.parts.map((part) => ('text' in part ? part.text : `@@${markers.get(`${part.secret}/${part.key}`)?.variable}@@`)).join(''));
    return { source: name, target: `${TEMPLATE_DIR}/${file.key}` };
  });
  const secrets = [...markers.values()].map((marker) => marker.source).sort();
  return {
    image: context.app.images.utility,
    command: ['/bin/sh', '-c', renderScript(service, files, [...markers.values()])],
    configs: templates,
    secrets: secrets.map((source) => ({ source, target: `/run/secrets/${source}` })),
    volumes: [{ type: 'volume', source: volume, target: RENDERED_DIR }],
    restart: 'no',
    // Root without other powers: it must read secret files whatever their owner on the host,
    // and hand the results to the service's user.
    user: '0:0',
    ...hardened(['CHOWN', 'DAC_OVERRIDE']),
  };
}

/** awk takes each marker's value from the environment, so no secret needs shell quoting. */
function renderScript(service: ResolvedService, files: readonly ResolvedFile[], markers: ReadonlyArray<{ variable: string; source: string }>): string {
  const awk =
    "awk '{ line = $0; out = \"\"; while (match(line, /@@DIPLOID_SECRET_[0-9]+@@/)) { out = out substr(line, 1, RSTART - 1) ENVIRON[substr(line, RSTART + 2, RLENGTH - 4)]; line = substr(line, RSTART + RLENGTH) } print out line }'";
  const lines = ['set -eu'];
  for (const marker of markers) lines.push(`${marker.variable}="$(cat /run/secrets/${marker.source})"`, `export ${marker.variable}`);
  const owner = ownerOf(service);
  for (const file of files) {
    const target = `${RENDERED_DIR}/${file.key}`;
    lines.push(`${awk} ${TEMPLATE_DIR}/${file.key} > ${target}`);
    lines.push(`chmod ${(file.mode ?? 0o444).toString(8)} ${target}`);
    if (owner !== undefined) lines.push(`chown ${owner} ${target}`);
  }
  return lines.join('\n');
}

function ownerOf(service: ResolvedService): string | undefined {
  const { runAsUser, runAsGroup } = service.security;
  if (runAsUser === undefined) return undefined;
  return runAsGroup === undefined ? String(runAsUser) : `${runAsUser}:${runAsGroup}`;
}

function withMode(mount: ComposeFileMount, mode: number | undefined): ComposeFileMount {
  return mode === undefined ? mount : { ...mount, mode };
}
