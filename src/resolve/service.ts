import { reportField, type ResolveContext } from './context.js';
import { omitUndefined } from './health.js';
import { resolveHealth } from './health.js';
import type { MergedService } from './layers.js';
import type {
  ResolvedCors,
  ResolvedDependency,
  ResolvedEnvVar,
  ResolvedFile,
  ResolvedImage,
  ResolvedReplicas,
  ResolvedSecurity,
  ResolvedService,
  ResolvedVolume,
} from './model.js';
import { hasOwn } from './own.js';
import { findPort, missingPortMessage } from './ports.js';
import { envValue, serviceReference, type ReferenceSink } from './references.js';
import { renderTemplate } from './templates.js';

const DEFAULT_CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'];
const DEFAULT_CORS_HEADERS = ['DNT', 'Keep-Alive', 'User-Agent', 'X-Requested-With', 'If-Modified-Since', 'Cache-Control', 'Content-Type', 'Range', 'Authorization'];

/** Inputs of one service that do not come from its spec. */
export interface ServiceExtras {
  /** Image tag for built images, e.g. a content hash chosen by the planner. */
  readonly imageTag: string;
  /** Dockerfile written by a preset. */
  readonly inlineDockerfile?: string;
}

/** Resolves one merged service; every problem goes to the context, never thrown. */
export function resolveService(context: ResolveContext, service: MergedService, extras: ServiceExtras): ResolvedService | undefined {
  const spec = service.spec;
  const references: ReferenceSink = new Set();
  const ports = context.ports.get(service.name) ?? [];
  const image = resolveImage(context, service, extras);
  const env = resolveEnv(context, service, references);
  const security = resolveSecurity(service);
  const volumes = resolveVolumes(service, security);
  const files = resolveFiles(context, service, env, references);
  const cors = resolveCors(context, service, references);
  const after = resolveAfter(context, service, references);
  const expose = resolveExpose(context, service);
  if (image === undefined) return undefined;
  const command = spec.command === undefined ? undefined : typeof spec.command === 'string' ? ['/bin/sh', '-c', spec.command] : spec.command;
  return omitUndefined({
    name: service.name,
    sources: service.files,
    image,
    ports,
    env,
    command,
    args: spec.args,
    replicas: resolveReplicas(spec),
    resources: omitUndefined({ cpu: spec.resources?.cpu, memory: spec.resources?.memory }),
    health: resolveHealth(context, service, ports),
    volumes,
    files,
    routes: context.routes.get(service.name) ?? [],
    cors,
    spa: spec.spa !== undefined,
    placement: spec.placement ?? 'default',
    expose,
    serviceAccount: spec.serviceAccount === true ? { kind: 'own' as const } : typeof spec.serviceAccount === 'string' ? { kind: 'existing' as const, name: spec.serviceAccount } : { kind: 'none' as const },
    security,
    after,
    references: [...references].filter((name) => name !== service.name).sort(),
    disruption: spec.disruption,
    gracePeriod: spec.gracePeriod,
    labels: spec.labels ?? {},
  }) as ResolvedService;
}

function resolveImage(context: ResolveContext, service: MergedService, extras: ServiceExtras): ResolvedImage | undefined {
  const { image, build } = service.spec;
  if (image !== undefined && build !== undefined) {
    reportField(context, service, 'image', [], 'set either image (a ready image) or build (built from a repo), not both');
    return undefined;
  }
  if (image !== undefined) return { kind: 'pull', ref: image };
  if (build === undefined) {
    context.problems.add(service.files.at(-1) ?? context.configFile, `services.${service.name}`, 'needs an image to run: set image, build or spa');
    return undefined;
  }
  const repo = build.repo ?? service.repo;
  if (repo === undefined) {
    reportField(context, service, 'build', ['repo'], 'is required: which repo holds the source (a name under repos in .diploid.conf.js)');
    return undefined;
  }
  if (!hasOwn(context.config.repos, repo)) {
    reportField(context, service, 'build', ['repo'], `repo "${repo}" is not listed under repos in ${context.configFile}`);
    return undefined;
  }
  const registry = context.config.registry?.url;
  if (registry === undefined) {
    reportField(context, service, 'build', [], `building an image needs a registry: set registry.url in ${context.configFile}`);
    return undefined;
  }
  const context_ = normalizeRelative(build.context ?? '.');
  return omitUndefined({
    kind: 'build' as const,
    ref: `${registry.replace(/\/+$/, '')}/${service.name}:${extras.imageTag}`,
    repo,
    context: context_,
    dockerfile: build.dockerfile ?? 'Dockerfile',
    inlineDockerfile: extras.inlineDockerfile,
    args: build.args ?? {},
    target: build.target,
    watch: [context_, ...(build.watch ?? []).map(normalizeRelative)],
  });
}

function normalizeRelative(path: string): string {
  const trimmed = path.replace(/^\.\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '.' : trimmed;
}

function resolveEnv(context: ResolveContext, service: MergedService, references: ReferenceSink): ResolvedEnvVar[] {
  const env: ResolvedEnvVar[] = [];
  for (const [name, value] of Object.entries(service.spec.env ?? {})) {
    const resolved = envValue(context, name, value, { service, field: 'env', segments: [name] }, references);
    if (resolved !== undefined) env.push({ name, value: resolved });
  }
  return env;
}

function resolveReplicas(spec: MergedService['spec']): ResolvedReplicas {
  const replicas = spec.replicas;
  if (typeof replicas === 'object') {
    const targets = replicas.cpu === undefined && replicas.memory === undefined ? { cpu: 80 } : { cpu: replicas.cpu, memory: replicas.memory };
    return omitUndefined({ kind: 'auto' as const, min: replicas.min, max: replicas.max, ...targets });
  }
  if (replicas === undefined && spec.placement === 'one-per-host') return { kind: 'per-host' };
  return { kind: 'fixed', count: replicas ?? 1 };
}

function resolveSecurity(service: MergedService): ResolvedSecurity {
  const security = service.spec.security ?? {};
  return omitUndefined({
    runAsNonRoot: !(security.runAsRoot ?? false),
    runAsUser: security.runAsUser,
    runAsGroup: security.runAsGroup,
    fsGroup: security.fsGroup,
    readOnlyRootFilesystem: !(security.writableRootFilesystem ?? false),
    allowPrivilegeEscalation: security.allowPrivilegeEscalation ?? false,
    addCapabilities: [...(security.capabilities ?? [])].sort(),
  });
}

/** Volumes by mount path; a read-only root file system still gets a scratch `/tmp`. */
function resolveVolumes(service: MergedService, security: ResolvedSecurity): ResolvedVolume[] {
  const volumes: ResolvedVolume[] = [];
  const specs = { ...(service.spec.volumes ?? {}) };
  if (security.readOnlyRootFilesystem && !('/tmp' in specs)) specs['/tmp'] = 'scratch';
  for (const [path, spec] of Object.entries(specs)) {
    const name = volumeName(path);
    if (spec === 'scratch' || spec === 'memory') volumes.push({ kind: 'scratch', name, path, memory: spec === 'memory' });
    else if ('scratch' in spec) volumes.push({ kind: 'scratch', name, path, memory: false, sizeLimit: spec.scratch.sizeLimit });
    else volumes.push(omitUndefined({ kind: 'persistent' as const, name, path, size: spec.size, storageClass: spec.storageClass, accessMode: spec.accessMode ?? 'ReadWriteOnce' }));
  }
  return volumes.sort((a, b) => a.path.localeCompare(b.path));
}

/** `/var/lib/data` -> `var-lib-data`: a valid, readable volume name. */
export function volumeName(path: string): string {
  const name = path.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return (name === '' ? 'root' : name).slice(0, 63).replace(/-+$/, '');
}

function resolveFiles(context: ResolveContext, service: MergedService, env: readonly ResolvedEnvVar[], references: ReferenceSink): ResolvedFile[] {
  const files: ResolvedFile[] = [];
  const keys = new Set<string>();
  for (const [path, spec] of Object.entries(service.spec.files ?? {})) {
    const template = typeof spec === 'string' ? spec : spec.template;
    const parts = renderTemplate(context, template, env, { service, field: 'files', segments: [path] }, references);
    let key = path.split('/').pop()?.replace(/[^A-Za-z0-9._-]/g, '_') || 'file';
    for (let n = 2; keys.has(key); n++) key = `${key}-${n}`;
    keys.add(key);
    const mode = typeof spec === 'string' ? undefined : spec.mode;
    files.push(omitUndefined({ path, key, parts, mode, hasSecrets: parts.some((part) => 'secret' in part) }));
  }
  return files;
}

function resolveCors(context: ResolveContext, service: MergedService, references: ReferenceSink): ResolvedCors | undefined {
  const cors = service.spec.cors;
  if (cors === undefined || cors === false) return undefined;
  if ((context.routes.get(service.name) ?? []).length === 0 && (service.spec.routes ?? []).length === 0) {
    reportField(context, service, 'cors', [], 'applies to routes, but the service has none: add routes');
  }
  if (cors === true) return { origins: ['*'], methods: DEFAULT_CORS_METHODS, headers: DEFAULT_CORS_HEADERS, credentials: false, maxAge: 86400 };
  const origins: string[] = [];
  cors.origins.forEach((origin, index) => {
    const value = typeof origin === 'string' ? origin : serviceReference(context, origin, { service, field: 'cors', segments: ['origins', index] }, references);
    if (value !== undefined) origins.push(value);
  });
  if (cors.credentials === true && origins.includes('*')) reportField(context, service, 'cors', ['credentials'], 'browsers refuse credentials with the origin "*": list the origins');
  return { origins, methods: cors.methods ?? DEFAULT_CORS_METHODS, headers: cors.headers ?? DEFAULT_CORS_HEADERS, credentials: cors.credentials ?? false, maxAge: cors.maxAge ?? 86400 };
}

function resolveAfter(context: ResolveContext, service: MergedService, references: ReferenceSink): ResolvedDependency[] {
  const dependencies: ResolvedDependency[] = [];
  (service.spec.after ?? []).forEach((name, index) => {
    const target = serviceReference(context, { $ref: name, part: 'address' as const }, { service, field: 'after', segments: [index] }, references);
    const port = findPort(context.ports.get(name) ?? [], undefined);
    if (target !== undefined && port !== undefined) dependencies.push({ service: name, port });
  });
  return dependencies;
}

function resolveExpose(context: ResolveContext, service: MergedService): ResolvedService['expose'] {
  const expose = service.spec.expose;
  if (expose === undefined) return undefined;
  const ports = context.ports.get(service.name) ?? [];
  const port = findPort(ports, expose.port);
  if (port === undefined) {
    reportField(context, service, 'expose', ['port'], missingPortMessage(service.name, ports, expose.port));
    return undefined;
  }
  return omitUndefined({ type: expose.type, port, nodePort: expose.nodePort });
}
