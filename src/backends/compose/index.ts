import { UserError } from '../../errors.js';
import type { ResolvedApp } from '../../resolve/model.js';
import { ComposeContext, Interpolated, SECRETS_DIR, type Inputs } from './context.js';
import { dependencies } from './depends.js';
import { planFiles } from './files.js';
import { PROXY_SERVICE, proxyService } from './proxy.js';
import { extraServices, type ExtraServices } from './shapes.js';
import { composeService, type DraftService } from './service.js';
import { literal, literalDeep } from './text.js';
import type { ComposeFile, ComposeService } from './types.js';

export type { ComposeFile } from './types.js';

export interface ComposeOutput {
  readonly file: ComposeFile;
  /** What the user provides before `docker compose up`: repo checkouts and secrets. */
  readonly inputs: Inputs;
  readonly warnings: readonly string[];
}

/** Compiles one resolved environment into a compose file. Pure: same app, same file. */
export function compileCompose(app: ResolvedApp): ComposeOutput {
  const context = new ComposeContext(app);
  if (app.pullSecret !== undefined) {
    context.warn(undefined, 'registry.pullSecret', `compose pulls with the credentials of \`docker login\`; "${app.pullSecret}" is not used: log in to the registry on the docker host`);
  }
  for (const reused of app.reused ?? []) {
    context.warn(reused.service, 'reused', `it runs in namespace "${reused.namespace}", which compose cannot reach: the service is missing from this file`);
  }
  const drafts = new Map<string, DraftService>();
  const completed = new Set<string>();
  const extras = new Map<string, ExtraServices>();
  for (const service of app.services) {
    const files = planFiles(context, service);
    drafts.set(service.name, composeService(context, service, files));
    const extra = extraServices(context, service);
    extras.set(service.name, extra);
    for (const [name, draft] of extra.services) {
      claim(app, drafts, name);
      drafts.set(name, draft);
    }
    if (files.renderStep !== undefined) {
      claim(app, drafts, files.renderStep.name);
      drafts.set(files.renderStep.name, files.renderStep.service);
      completed.add(service.name);
    }
  }
  const healthy = new Set(app.services.filter((service) => drafts.get(service.name)?.healthcheck !== undefined).map((service) => service.name));
  const order = dependencies(context, app.services, healthy);
  for (const service of app.services) {
    const draft = drafts.get(service.name) as DraftService;
    const needs = order.get(service.name) ?? {};
    const extra = extras.get(service.name);
    // Init steps and tasks need what the service needs (a migration needs its database).
    for (const name of extra?.sharing ?? []) {
      const step = drafts.get(name) as DraftService;
      const merged = { ...needs, ...step.depends_on };
      if (Object.keys(merged).length > 0) step.depends_on = sortedRecord(merged);
    }
    const dependsOn = { ...needs, ...extra?.before };
    if (completed.has(service.name)) dependsOn[`${service.name}-files`] = { condition: 'service_completed_successfully' };
    if (Object.keys(dependsOn).length > 0) draft.depends_on = sortedRecord(dependsOn);
  }
  const proxy = proxyService(context, app.services);
  if (proxy !== undefined) {
    claim(app, drafts, PROXY_SERVICE);
    drafts.set(PROXY_SERVICE, proxy);
  }

  // Compose copies `content` configs into the container before it starts, which Docker refuses
  // for a read-only root (docker/compose#12031): such a container would never be created.
  for (const [name, draft] of [...drafts.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (draft.configs === undefined || draft.configs.length === 0 || draft.read_only !== true) continue;
    delete draft.read_only;
    context.warn(name, 'security.readOnlyRootFilesystem', 'compose copies config files into the container, which Docker refuses for a read-only root file system (docker/compose#12031): the root is left writable');
  }
  const services = Object.fromEntries([...drafts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, draft]) => [name, ordered(finish(draft))]));
  const file: ComposeFile = { name: projectName(app), services };
  if (context.configs.size > 0) file.configs = Object.fromEntries(sortedEntries(context.configs).map(([name, content]) => [name, { content: literal(content) }]));
  if (context.inputs.secretFiles.size > 0) {
    file.secrets = Object.fromEntries(sortedEntries(context.inputs.secretFiles).map(([name, path]) => [name, { file: `${SECRETS_DIR}/${literal(path)}` }]));
  }
  if (context.volumes.size > 0) file.volumes = Object.fromEntries(sortedEntries(context.volumes));
  return { file, inputs: context.inputs, warnings: context.warnings };
}

/** Helper services share the namespace of the user's; a clash is the user's to resolve. */
function claim(app: ResolvedApp, drafts: ReadonlyMap<string, unknown>, name: string): void {
  if (drafts.has(name) || app.services.some((service) => service.name === name)) {
    throw new UserError(`the compose backend adds a service "${name}", but the app has a service of that name already; rename it`);
  }
}

/** Escapes every `$` of literal text; `Interpolated` text stays as compose should read it. */
function finish(draft: DraftService): ComposeService {
  const { environment, build, ...rest } = draft;
  const result = literalDeep(rest) as ComposeService;
  if (build !== undefined) {
    const { context, ...buildRest } = build;
    result.build = { context: context instanceof Interpolated ? context.text : literal(context), ...literalDeep(buildRest) };
  }
  if (environment !== undefined) {
    result.environment = Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, value instanceof Interpolated ? value.text : literal(value)]));
  }
  return result;
}

const KEY_ORDER: ReadonlyArray<keyof ComposeService> = [
  'image',
  'build',
  'entrypoint',
  'command',
  'environment',
  'configs',
  'secrets',
  'volumes',
  'expose',
  'ports',
  'depends_on',
  'healthcheck',
  'deploy',
  'restart',
  'profiles',
  'stop_grace_period',
  'user',
  'read_only',
  'cap_drop',
  'cap_add',
  'security_opt',
  'labels',
];

/** Fields in one fixed order, whatever order they were set in. */
function ordered(service: ComposeService): ComposeService {
  const entries = KEY_ORDER.filter((key) => service[key] !== undefined).map((key) => [key, service[key]]);
  return Object.fromEntries(entries) as ComposeService;
}

function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

function sortedEntries<T>(map: ReadonlyMap<string, T>): Array<[string, T]> {
  return [...map.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** Compose project names allow lower-case letters, digits, `-` and `_`. */
function projectName(app: ResolvedApp): string {
  const name = `${app.project}-${app.environment.name}`.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  return name === '' ? 'diploid' : name;
}
