import { ConfigError, UserError, type ConfigProblem } from '../errors.js';
import { defaultNamespace } from '../model/kubernetes-names.js';
import type { AddressPorts, ResolveContext } from './context.js';
import { FragmentExpander } from './fragments.js';
import { checkKubernetesRules } from './kubernetes-rules.js';
import { mergeService, validateSources, type MergedService, type ValidatedSources } from './layers.js';
import type { ResolvedApp, ResolvedCluster, ResolvedPort, ResolvedRoute, ResolvedService } from './model.js';
import { entryHolds, inputKey, memoBucket, TrackedMap, TrackedSet, type InputKey, type MemoEntry } from './memo.js';
import { hasOwn, own } from './own.js';
import { resolvePorts } from './ports.js';
import { expandSpa } from './presets/spa.js';
import { joinPath, Problems } from './problems.js';
import { looksSecret } from './references.js';
import { resolveRoutes } from './routes.js';
import { suggestion } from './schema-errors.js';
import { resolveService } from './service.js';
import type { AppSources } from './sources.js';

export type { AppSources, SourceDocument, ServiceOrigin } from './sources.js';
export { prevalidateServiceDocument } from './layers.js';
export type * from './model.js';

export const DEFAULT_IMAGES = {
  utility: 'busybox:1.36',
  static: 'nginxinc/nginx-unprivileged:1.27-alpine',
  node: 'node:20-alpine',
} as const;

/** The tag of built images when the caller chose none (the planner passes content hashes). */
export const DEFAULT_IMAGE_TAG = 'latest';

export interface ResolveOptions {
  readonly environment: string;
  /** Tag per built service; `latest` for the others. */
  readonly imageTags?: Readonly<Record<string, string>>;
  /** `container` where nothing stands between services and containers (compose); `service` by default. */
  readonly addressPorts?: AddressPorts;
}

/** Resolves one environment, or throws a `ConfigError` listing every problem. */
export function resolveApp(sources: AppSources, options: ResolveOptions): ResolvedApp {
  const problems = new Problems();
  const validated = validateSources(sources, problems);
  if (validated === undefined) throw new ConfigError(dedupe(problems.list));
  if (!hasOwn(validated.config.environments, options.environment)) {
    const known = Object.keys(validated.config.environments);
    throw new UserError(`unknown environment "${options.environment}"${suggestion(options.environment, known)}; ${sources.config.file} defines ${known.join(', ')}`);
  }
  const app = resolveEnvironment(validated, options, problems);
  if (!problems.empty) throw new ConfigError(dedupe(problems.list));
  return app;
}

/** Checks every file and every environment; returns all problems (empty when all is well). */
export function checkApp(sources: AppSources): ConfigProblem[] {
  const problems = new Problems();
  const validated = validateSources(sources, problems);
  if (validated !== undefined) {
    for (const environment of Object.keys(validated.config.environments)) resolveEnvironment(validated, { environment }, problems);
  }
  return dedupe(problems.list);
}

/** Names of the environments a valid config defines, in the order written. */
export function environmentNames(sources: AppSources): string[] {
  const problems = new Problems();
  const validated = validateSources(sources, problems);
  if (validated === undefined) throw new ConfigError(dedupe(problems.list));
  return Object.keys(validated.config.environments);
}

function resolveEnvironment(validated: ValidatedSources, options: ResolveOptions, problems: Problems): ResolvedApp {
  const { config, configFile } = validated;
  const name = options.environment;
  const envConfig = own(config.environments, name) ?? {};
  const environment = {
    name,
    namespace: envConfig.namespace ?? defaultNamespace(config.project, name),
    ownsNamespace: envConfig.existingNamespace !== true,
    ...(envConfig.domain ?? config.ingress?.domain ? { domain: envConfig.domain ?? `${name}.${config.ingress?.domain}` } : {}),
    ...resolveCluster(validated, name, envConfig.cluster, problems),
    ...(envConfig.atomic === true ? { atomic: true as const } : {}),
  };
  const images = { ...DEFAULT_IMAGES, ...config.images };
  if (envConfig.existingNamespace === true && envConfig.namespace === undefined) {
    problems.add(configFile, joinPath('environments', name, 'existingNamespace'), 'needs namespace: the name of the existing namespace to deploy into');
  }
  checkSharedValues(validated, problems);

  const fragments = new FragmentExpander(config.fragments ?? {}, configFile, problems);
  const addressPorts = options.addressPorts ?? 'service';
  // Services whose inputs are those of an earlier clean resolution reuse its results (see memo.ts).
  const bucket = memoBucket(config, configFile, name, addressPorts);
  const problemsBefore = problems.list.length;
  const keys = new Map<string, InputKey>();
  for (const [serviceName, layers] of validated.services) keys.set(serviceName, inputKey(layers));
  const ownEntry = (serviceName: string) => {
    const entry = bucket.get(serviceName);
    return entry !== undefined && entry.key === keys.get(serviceName) ? entry : undefined;
  };
  const merged = new Map<string, MergedService>();
  const dockerfiles = new Map<string, string>();
  for (const serviceName of [...validated.services.keys()].sort()) {
    const known = ownEntry(serviceName);
    if (known !== undefined) {
      if (known.dockerfile !== undefined) dockerfiles.set(serviceName, known.dockerfile);
      merged.set(serviceName, known.merged);
      continue;
    }
    const service = mergeService(validated, serviceName, name, fragments);
    const spa = expandSpa(service.spec, images);
    if (spa.dockerfile !== undefined) dockerfiles.set(serviceName, spa.dockerfile);
    merged.set(serviceName, { ...service, spec: { ...spa.spec, name: serviceName } });
  }
  const ports = new Map<string, readonly ResolvedPort[]>();
  for (const service of merged.values()) ports.set(service.name, ownEntry(service.name)?.ports ?? resolvePorts(service, problems));
  const routes = new Map<string, readonly ResolvedRoute[]>();
  const context: ResolveContext = { config, configFile, environment, services: merged, invalid: validated.invalid, ports, routes, problems, addressPorts };
  for (const service of merged.values()) routes.set(service.name, ownEntry(service.name)?.routes ?? resolveRoutes(context, service, ports.get(service.name) ?? []));

  const services: ResolvedService[] = [];
  const reused = new Set<string>();
  const fresh: MemoEntry[] = [];
  for (const service of merged.values()) {
    const dockerfile = dockerfiles.get(service.name);
    const imageTag = own(options.imageTags, service.name) ?? DEFAULT_IMAGE_TAG;
    const known = bucket.get(service.name);
    if (entryHolds(known, keys.get(service.name) ?? '', imageTag, (other) => (validated.invalid.has(other) ? undefined : keys.get(other)), (other) => validated.invalid.has(other))) {
      services.push(known.resolved);
      reused.add(service.name);
      fresh.push(known);
      continue;
    }
    const reads = new Set<string>();
    const invalidReads = new Map<string, boolean>();
    const tracked = { services: new TrackedMap(merged, reads), ports: new TrackedMap(ports, reads), routes: new TrackedMap(routes, reads), invalid: new TrackedSet(validated.invalid, invalidReads) };
    const resolved = resolveService({ ...context, ...tracked }, service, {
      imageTag,
      ...(dockerfile === undefined ? {} : { inlineDockerfile: dockerfile }),
    });
    if (resolved === undefined) continue;
    services.push(resolved);
    if (tracked.services.all || tracked.ports.all || tracked.routes.all || tracked.invalid.all) continue;
    const readKeys = new Map<string, InputKey | undefined>();
    for (const other of reads) readKeys.set(other, validated.invalid.has(other) ? undefined : keys.get(other));
    fresh.push({ key: keys.get(service.name) ?? '', imageTag, merged: service, dockerfile, ports: ports.get(service.name) ?? [], routes: routes.get(service.name) ?? [], resolved, reads: readKeys, invalidReads });
  }
  checkKubernetesRules(context, services, envConfig.namespace === undefined, reused);
  // Only a clean resolution is remembered: a reused service then never hides a problem.
  if (problems.list.length === problemsBefore) {
    bucket.clear();
    for (const entry of fresh) bucket.set(entry.merged.name, entry);
  }
  return {
    project: config.project,
    environment,
    ingress: {
      api: config.ingress?.api ?? 'ingress',
      ...(config.ingress?.className === undefined ? {} : { className: config.ingress.className }),
      ...(config.ingress?.gateway === undefined ? {} : { gateway: config.ingress.gateway }),
      ...(config.ingress?.tls === undefined ? {} : { tls: { issuer: config.ingress.tls.issuer, kind: config.ingress.tls.kind ?? 'ClusterIssuer' } }),
    },
    images,
    ...(config.registry?.pullSecret === undefined ? {} : { pullSecret: config.registry.pullSecret }),
    services,
  };
}

/** The environment's cluster, when it names one; a name `clusters` lacks is a problem. */
function resolveCluster(validated: ValidatedSources, environment: string, name: string | undefined, problems: Problems): { cluster?: ResolvedCluster } {
  if (name === undefined) return {};
  const { config, configFile } = validated;
  const cluster = own(config.clusters, name);
  if (cluster === undefined) {
    const known = Object.keys(config.clusters ?? {});
    problems.add(configFile, joinPath('environments', environment, 'cluster'), `names no entry of clusters; expected ${known.length === 0 ? 'a cluster defined under clusters: { NAME: { kubeconfigSecret: SECRET } }' : `one of ${known.join(', ')}`}${suggestion(name, known)}`);
    return {};
  }
  return { cluster: { name, secret: cluster.kubeconfigSecret, key: cluster.key ?? 'kubeconfig' } };
}

function checkSharedValues(validated: ValidatedSources, problems: Problems): void {
  const { config, configFile } = validated;
  const check = (values: Record<string, unknown> | undefined, prefix: string) => {
    for (const [key, value] of Object.entries(values ?? {})) {
      if ((typeof value === 'string' || typeof value === 'number') && String(value) !== '' && looksSecret(key)) {
        problems.add(configFile, joinPath(prefix, key), "looks like a secret written inline; use secret('<secret-name>', '<key>') so the value stays out of git and rendered output");
      }
    }
  };
  check(config.shared, 'shared');
  for (const [name, env] of Object.entries(config.environments)) check(env.shared, joinPath('environments', name, 'shared'));
  if (config.ingress?.api === 'gateway' && config.ingress.gateway === undefined) {
    problems.add(configFile, 'ingress.gateway', 'is required when ingress.api is "gateway": the Gateway that routes attach to, { name, namespace }');
  }
}

function dedupe(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.file}\0${problem.path}\0${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
