import {
  claimName,
  defaultNamespace,
  instanceLabel,
  isDataKey,
  MAX_CONFIGMAP_BYTES,
  MAX_LABEL,
  MAX_STATEFULSET_NAME,
  MAX_SUBDOMAIN,
  RESERVED_VOLUME_NAMES,
  waitStepName,
  workloadKind,
} from '../model/kubernetes-names.js';
import { reportField, type ResolveContext } from './context.js';
import type { MergedService } from './layers.js';
import type { ResolvedFile, ResolvedService } from './model.js';
import { describeValue, joinPath } from './problems.js';

/**
 * Rules the Kubernetes API server (or a controller behind it) enforces on what diploid derives
 * from the config: generated names and labels, mount paths, ConfigMap sizes, resources, start
 * order and node ports. Each is reported at the file and path that caused it, so nothing the
 * resolver accepts is refused later at apply time. The names are the backend's own (shared
 * functions in model/kubernetes-names), not re-derived here.
 */
export function checkKubernetesRules(context: ResolveContext, services: readonly ResolvedService[], namespaceIsDefault: boolean, alreadyChecked: ReadonlySet<string> = new Set()): void {
  const { environment, config, configFile, problems } = context;
  if (namespaceIsDefault && environment.namespace.length > MAX_LABEL) {
    problems.add(
      configFile,
      joinPath('environments', environment.name),
      `the namespace "${defaultNamespace(config.project, environment.name)}" (<project>-<environment>) has ${environment.namespace.length} characters; Kubernetes allows ${MAX_LABEL}: set environments.${environment.name}.namespace or shorten the names`,
    );
  }
  for (const service of services) {
    const merged = context.services.get(service.name);
    // A service reused from a clean resolution of the same inputs passed these checks then.
    if (merged === undefined || alreadyChecked.has(service.name)) continue;
    checkNames(context, merged, service);
    checkMounts(context, merged, service);
    checkConfigMapSizes(context, merged, service);
    checkResources(context, merged);
  }
  checkStartOrder(context, services);
  checkNodePorts(context, services);
}

function checkNames(context: ResolveContext, merged: MergedService, service: ResolvedService): void {
  const env = context.environment.name;
  const instance = instanceLabel(service.name, env);
  if (instance.length > MAX_LABEL) {
    reportField(
      context,
      merged,
      'name',
      [],
      `in environment "${env}" the label app.kubernetes.io/instance would be "${instance}" (<name>-<environment>, ${instance.length} characters); Kubernetes allows ${MAX_LABEL}: use a name of at most ${MAX_LABEL - env.length - 1} characters`,
    );
  }
  const persistent = service.volumes.filter((volume) => volume.kind === 'persistent');
  if (workloadKind(service.replicas, persistent.length > 0) === 'StatefulSet' && service.name.length > MAX_STATEFULSET_NAME) {
    reportField(
      context,
      merged,
      'name',
      [],
      `runs as a StatefulSet (persistent volumes, several replicas), whose pods carry "<name>-<revision hash>" in a label: use a name of at most ${MAX_STATEFULSET_NAME} characters`,
    );
  }
  for (const volume of persistent) {
    const claim = claimName(service.name, volume.name);
    if (claim.length > MAX_SUBDOMAIN) reportField(context, merged, 'volumes', [volume.path], `its claim name "${claim}" is longer than ${MAX_SUBDOMAIN} characters`);
  }
  service.after.forEach((dependency) => {
    const step = waitStepName(dependency.service);
    if (step.length > MAX_LABEL) {
      const index = (merged.spec.after ?? []).indexOf(dependency.service);
      reportField(context, merged, 'after', [index], `the init step that waits for it would be named "${step}" (${step.length} characters); Kubernetes allows ${MAX_LABEL}: a service others wait for needs a name of at most ${MAX_LABEL - 9} characters`);
    }
  });
}

/** Mount paths: absolute and normalized, and one mount per path; volume names unique. */
function checkMounts(context: ResolveContext, merged: MergedService, service: ResolvedService): void {
  const volumePaths = new Set<string>();
  const volumeNames = new Map<string, string>();
  for (const volume of service.volumes) {
    volumePaths.add(volume.path);
    const written = Object.hasOwn(merged.spec.volumes ?? {}, volume.path);
    const where = (message: string) => (written ? reportField(context, merged, 'volumes', [volume.path], message) : undefined);
    const bad = pathProblem(volume.path);
    if (bad !== undefined) where(bad);
    const other = volumeNames.get(volume.name);
    if (other !== undefined) where(`gives the volume name "${volume.name}", like "${other}": use paths that differ in more than punctuation`);
    else if (service.files.length > 0 && (RESERVED_VOLUME_NAMES as readonly string[]).includes(volume.name)) where(`gives the volume name "${volume.name}", which diploid uses for config files: use another path`);
    volumeNames.set(volume.name, volume.path);
  }
  for (const file of service.files) {
    const bad = pathProblem(file.path);
    if (bad !== undefined) reportField(context, merged, 'files', [file.path], bad);
    else if (volumePaths.has(file.path)) reportField(context, merged, 'files', [file.path], `is also a volume's path: a file and a volume cannot be mounted at the same place`);
    if (!isDataKey(file.key)) reportField(context, merged, 'files', [file.path], `its file name makes the ConfigMap key ${describeValue(file.key)} (${file.key.length} characters), which Kubernetes refuses: at most ${MAX_SUBDOMAIN} letters, digits, "-", "_" and "."`);
  }
}

/** Why a mount path is refused, or undefined when it is fine. */
function pathProblem(path: string): string | undefined {
  const expected = 'expected an absolute, normalized path such as "/etc/app/config.toml"';
  if (!path.startsWith('/') || path === '/') return `${expected} (not the root folder)`;
  if (path.includes(':')) return `${expected}, without ":" (Kubernetes refuses it in mount paths)`;
  const segments = path.slice(1).split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return `${expected}, without "//", "." or ".." parts and without a trailing "/"`;
  return undefined;
}

/** A ConfigMap holds at most 1 MiB: the plain files, and the templates of files with secrets. */
function checkConfigMapSizes(context: ResolveContext, merged: MergedService, service: ResolvedService): void {
  for (const files of [service.files.filter((file) => !file.hasSecrets), service.files.filter((file) => file.hasSecrets)]) {
    let total = 0;
    for (const file of files) {
      total += byteLength(file) + file.key.length;
      if (total > MAX_CONFIGMAP_BYTES) {
        reportField(context, merged, 'files', [file.path], `the service's files come to more than 1 MiB (${MAX_CONFIGMAP_BYTES} bytes) with this one, the most a ConfigMap holds: use a volume or a smaller file`);
        break;
      }
    }
  }
}

function byteLength(file: ResolvedFile): number {
  let bytes = 0;
  for (const part of file.parts) bytes += 'text' in part ? Buffer.byteLength(part.text) : 32;
  return bytes;
}

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/;
const FACTORS: Record<string, number> = { m: 1e-3, k: 1e3, Ki: 2 ** 10, M: 1e6, Mi: 2 ** 20, G: 1e9, Gi: 2 ** 30, T: 1e12, Ti: 2 ** 40, P: 1e15, Pi: 2 ** 50, E: 1e18, Ei: 2 ** 60 };

/** A quantity's value, for comparing a request with its limit. */
function quantityValue(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * (match[2] === undefined ? 1 : (FACTORS[match[2]] ?? 1));
}

function checkResources(context: ResolveContext, merged: MergedService): void {
  for (const kind of ['cpu', 'memory'] as const) {
    const range = merged.spec.resources?.[kind];
    if (range?.request === undefined || range.limit === undefined) continue;
    const request = quantityValue(range.request);
    const limit = quantityValue(range.limit);
    if (request !== undefined && limit !== undefined && request > limit) {
      reportField(context, merged, 'resources', [kind], `the request ${range.request} is above the limit ${range.limit}; Kubernetes requires request <= limit (write "${range.limit}..${range.request}"?)`);
    }
  }
}

/** `after` must not loop: two init steps waiting for each other never finish. */
function checkStartOrder(context: ResolveContext, services: readonly ResolvedService[]): void {
  const edges = new Map(services.map((service) => [service.name, service.after.map((dependency) => dependency.service)]));
  const state = new Map<string, 'open' | 'done'>();
  for (const root of [...edges.keys()].sort()) {
    if (state.has(root)) continue;
    // Iterative depth-first search; `path` holds the services being visited.
    const path: Array<{ name: string; next: number }> = [{ name: root, next: 0 }];
    state.set(root, 'open');
    while (path.length > 0) {
      const top = path[path.length - 1] as { name: string; next: number };
      const targets = edges.get(top.name) ?? [];
      if (top.next >= targets.length) {
        state.set(top.name, 'done');
        path.pop();
        continue;
      }
      const index = top.next++;
      const target = targets[index] as string;
      if (state.get(target) === 'open') {
        const cycle = [...path.slice(path.findIndex((entry) => entry.name === target)).map((entry) => entry.name), target];
        const merged = context.services.get(top.name);
        const at = (merged?.spec.after ?? []).indexOf(target);
        if (merged !== undefined) reportField(context, merged, 'after', [at], `services wait for each other in a cycle (${cycle.join(' -> ')}): their pods would never start`);
      } else if (!state.has(target) && edges.has(target)) {
        state.set(target, 'open');
        path.push({ name: target, next: 0 });
      }
    }
  }
}

/** A node port is cluster-wide: two services cannot take the same one. */
function checkNodePorts(context: ResolveContext, services: readonly ResolvedService[]): void {
  const taken = new Map<number, string>();
  for (const service of services) {
    const port = service.expose?.nodePort;
    if (port === undefined) continue;
    const other = taken.get(port);
    const merged = context.services.get(service.name);
    if (other !== undefined && merged !== undefined) reportField(context, merged, 'expose', ['nodePort'], `node port ${port} is already taken by service "${other}"`);
    else taken.set(port, service.name);
  }
}
