import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import type { Command } from 'commander';
import { applyObjects } from '../../cluster/apply.js';
import { compileKubernetes } from '../../backends/kubernetes/index.js';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import { DEFAULT_CONTROLLER_NAMESPACE } from '../../controller/manifests.js';
import { UserError } from '../../errors.js';
import { resolveApp } from '../../resolve/index.js';
import { ExitCode } from '../exit-code.js';
import { loadConfigForCommand, loadForCommand } from '../load.js';
import type { Output } from '../output.js';
import { environmentAndBranch, exampleDir, opsFolder, repoFolders } from '../up/example.js';
import { elapsed, follow, ingressRoutes, type FollowResult } from '../up/follow.js';
import { startLocalBed, stopLocalBed } from '../up/local-bed.js';
import { BASE_CONFIG_FILE, BED_TOKEN_ENV, overlayConfig } from '../up/overlay.js';
import { ensureAnnotatedNamespace, ensureRandomSecret, provideVolumes, putConfigMap, secretsReadBy } from '../up/prepare.js';
import { pushSnapshot } from '../up/snapshot.js';
import { ensureStandIns } from '../up/stand-ins.js';
import { controllerInstall, registerConfiguredWebhooks } from './init.js';

interface UpOptions {
  kubeconfig?: string;
  context?: string;
  env?: string;
  opsUrl?: string;
  image?: string;
  timeout: string;
  wait: boolean;
}

/**
 * Adds `diploid up` (the README's first command: an ops repo built and deployed by the controller,
 * on the local test bed when no cluster is named) and `diploid down` (stops that bed).
 */
export function registerUpCommands(program: Command, output: Output): void {
  program
    .command('up')
    .description('Run the whole loop on an ops repo: on the local test bed (started, and built the first time) unless a cluster is named, install the controller, push the repos, follow builds and deploys, print URLs that answer.')
    .argument('[dir]', 'an ops repo, or a folder with one in ops/ (examples/shop)', 'examples/shop')
    .option('--kubeconfig <file>', 'use this cluster instead of the local test bed (also: $KUBECONFIG)')
    .option('--context <name>', 'use this context of the kubeconfig instead of the local test bed')
    .option('--env <name>', 'environment to bring up (default: the one branch main deploys to)')
    .option('--ops-url <url>', "with a cluster: where the controller clones the ops repo (default: the ops folder's origin)")
    .option('--image <image>', 'with a cluster: the diploid image the controller runs (default: controller.image)')
    .option('--timeout <minutes>', 'give up following after this many minutes', '30')
    .option('--no-wait', 'with a cluster: install the controller and return')
    .action(async (dir: string, options: UpOptions) => {
      const minutes = Number(options.timeout);
      if (!Number.isFinite(minutes) || minutes <= 0) throw new UserError(`--timeout expects minutes, got "${options.timeout}"`);
      const kubeconfig = options.kubeconfig ?? process.env['KUBECONFIG'];
      if (kubeconfig !== undefined || options.context !== undefined) {
        await upOnCluster(dir, { ...options, ...(kubeconfig === undefined ? {} : { kubeconfig }) }, minutes, output);
      } else {
        await upOnBed(dir, options, minutes, output);
      }
    });
  program
    .command('down')
    .description('Stop the local test bed `diploid up` started (the one in $DIPLOID_TESTBED_DIR, else .testbed in this checkout).')
    .action(async () => {
      await stopLocalBed((line) => output.err(`${line}\n`));
      output.err('the local test bed is stopped\n');
    });
}

/** What both ways of `up` start from: the example's ops config, validated, and the environment to follow. */
async function startUp(dir: string, options: UpOptions, output: Output) {
  const startedAt = Date.now();
  const opsDir = opsFolder(dir);
  const file = join(opsDir, '.diploid.conf.js');
  const config = await loadConfigForCommand(opsDir, output);
  return { startedAt, say: (line: string): void => output.err(`${line}\n`), opsDir, file, config, ...environmentAndBranch(config, options.env, file) };
}

async function upOnBed(dir: string, options: UpOptions, minutes: number, output: Output): Promise<void> {
  const { startedAt, say, opsDir, file, config, environment, branch } = await startUp(dir, options, output);
  const folders = repoFolders(config, opsDir, file);

  say(`[${elapsed(startedAt)}] no cluster named (--kubeconfig, KUBECONFIG, --context): using the local test bed`);
  const bed = await startLocalBed((line) => say(`  ${line}`));
  say(`[${elapsed(startedAt)}] test bed ${bed.alreadyUp ? 'already running' : `up in ${bed.upSeconds}s`} (${bed.stateDir})`);
  const kube = kubeConfigFrom(bed.kubeconfig);

  // Snapshots of the folders, pushed to the bed's git server; the ops repo gets the overlay.
  const work = join(bed.stateDir, 'up', config.project);
  const domain = `${config.project}.localhost`;
  const opsPath = config.ops?.path ?? `${config.project}/ops`;
  const commits: Record<string, string> = {};
  for (const repo of folders) {
    const pushed = pushSnapshot({ from: repo.folder, dir: join(work, 'repos', repo.name), url: `${bed.gitUrl}/${repo.path}.git`, branch });
    commits[repo.name] = pushed.commit;
    say(`[${elapsed(startedAt)}] pushed ${repo.folder} to ${pushed.url} ${branch} (${pushed.commit.slice(0, 12)})`);
  }
  // The controller and its builds run in pods: they reach the git server and registry at the pod gateway.
  const opsUrl = `${bed.pod.gitUrl}/${opsPath}.git`;
  const overlay = overlayConfig({ gitUrl: bed.pod.gitUrl, registry: bed.pod.registry, ingressClass: bed.ingressClass, domain, resync: '15s', environment });
  const ops = pushSnapshot({ from: opsDir, dir: join(work, 'ops'), url: `${bed.gitUrl}/${opsPath}.git`, branch, copy: { '.diploid.conf.js': BASE_CONFIG_FILE }, extra: { '.diploid.conf.js': overlay } });
  commits['ops'] = ops.commit;
  say(`[${elapsed(startedAt)}] pushed ${opsDir} to ${ops.url} ${branch} (${ops.commit.slice(0, 12)}; its .diploid.conf.js points the git host, registry and ingress at the bed)`);

  // What the controller and the services need in the cluster before they start.
  const { sources } = await loadForCommand(ops.dir, join(work, 'repos'), output);
  const app = resolveApp(sources, { environment });
  const objects = compileKubernetes(app).objects;
  const namespace = app.environment.namespace;
  const controllerNamespace = config.controller?.namespace ?? DEFAULT_CONTROLLER_NAMESPACE;
  const step = (line: string): void => say(`[${elapsed(startedAt)}] ${line}`);
  for (const name of [controllerNamespace, namespace]) await ensureAnnotatedNamespace(kube, name, bed.namespaceAnnotations, step);
  await putConfigMap(kube, controllerNamespace, 'diploid-buildkitd', { 'buildkitd.toml': bed.buildkitdToml });
  await provideVolumes(kube, objects, (claim) => join(work, 'volumes', claim), step);
  await ensureRandomSecret(kube, controllerNamespace, 'diploid', ['DIPLOID_WEBHOOK_SECRET', BED_TOKEN_ENV], step);
  const rendered = new Set(objects.filter((object) => object.kind === 'Secret').map((object) => object.metadata?.name));
  for (const [name, keys] of secretsReadBy(objects)) {
    if (!rendered.has(name)) await ensureRandomSecret(kube, namespace, name, [...keys], step);
  }

  // Images the example only pulls (a vendor's) get their stand-ins built before the controller deploys.
  const repos = Object.fromEntries(folders.map((repo) => [repo.name, { url: `${bed.pod.gitUrl}/${repo.path}.git`, commit: commits[repo.name] ?? '' }]));
  await ensureStandIns({ kube, dir: exampleDir(dir, opsDir), mirrored: bed.mirrored, registry: bed.pod.registry, namespace: controllerNamespace, repos, log: step });

  // `diploid init`'s objects, without webhooks: none reach the bed.
  const install = controllerInstall(ops.dir, await loadConfigForCommand(ops.dir, output), { opsUrl, image: bed.controllerImage, plainHttpRegistries: [bed.pod.registry] });
  const applied = await applyObjects(kube, install.objects);
  const changed = applied.filter((item) => item.outcome !== 'unchanged');
  say(`[${elapsed(startedAt)}] controller installed in ${controllerNamespace} from ${bed.controllerImage} (diploid init: ${applied.length} objects, ${changed.length} created or changed)`);
  say(`[${elapsed(startedAt)}] following ${environment} (namespace ${namespace}): the controller builds the images in the cluster with BuildKit and deploys them`);

  const routes = ingressRoutes(objects.filter((object) => object.kind === 'Ingress') as k8s.V1Ingress[], bed.ingressUrl);
  const result = await follow({ kube, controllerNamespace, environment, namespace, commits, routes, ingressUrl: bed.ingressUrl, startedAt, deadline: startedAt + minutes * 60_000, log: say });
  report(result, output, startedAt, [
    `Stop the bed: DIPLOID_TESTBED_DIR=${bed.stateDir} npx diploid down   (or scripts/testbed down with the same variable)`,
    `Use it: eval "$(DIPLOID_TESTBED_DIR=${bed.stateDir} scripts/testbed env)"; diploid status --env ${environment}`,
    `Change a file under ${dir} and run diploid up again: the controller rebuilds and rolls out what changed.`,
  ], bed.ingressUrl);
}

async function upOnCluster(dir: string, options: UpOptions, minutes: number, output: Output): Promise<void> {
  const { startedAt, say, opsDir, config, environment } = await startUp(dir, options, output);
  const kube = kubeConfigFrom(options.kubeconfig);
  if (options.context !== undefined) kube.setCurrentContext(options.context);
  const server = kube.getCurrentCluster()?.server ?? '?';
  say(`[${elapsed(startedAt)}] using the cluster at ${server} (${options.context === undefined ? `kubeconfig ${options.kubeconfig}` : `context ${options.context}`}); no local test bed; nothing is pushed: the controller follows the repos where the config says they live`);
  const install = controllerInstall(opsDir, config, { ...(options.opsUrl === undefined ? {} : { opsUrl: options.opsUrl }), ...(options.image === undefined ? {} : { image: options.image }) });
  const applied = await applyObjects(kube, install.objects);
  say(`[${elapsed(startedAt)}] controller installed (diploid init: ${applied.length} objects); it reads its Secret, see \`diploid init --dry-run\``);
  // As `diploid init` does; its lines go with up's progress, on standard error.
  await registerConfiguredWebhooks(config, { out: (text) => output.err(text), err: (text) => output.err(text) });
  if (!options.wait) return;
  const app = resolveApp((await loadForCommand(opsDir, undefined, output)).sources, { environment });
  const controllerNamespace = install.namespace;
  const result = await follow({ kube, controllerNamespace, environment, namespace: app.environment.namespace, commits: {}, startedAt, deadline: startedAt + minutes * 60_000, log: say });
  report(result, output, startedAt, [`The controller stays installed: kubectl delete namespace ${controllerNamespace} removes it.`], undefined);
}

/** The end of `up`: URLs on standard output, then how to stop; exit 1 unless the environment is ready. */
function report(result: FollowResult, output: Output, startedAt: number, after: readonly string[], ingressUrl: string | undefined): void {
  const answered = result.routes.filter((route) => route.answeredAfter !== undefined);
  const first = Math.min(...answered.map((route) => route.answeredAfter ?? Infinity));
  if (answered.length > 0) output.err(`[${elapsed(startedAt)}] first service answered ${first}s after the start\n`);
  output.out('\n');
  for (const route of result.routes) {
    const state = ingressUrl === undefined ? '' : route.answeredAfter === undefined ? '   (not answering yet)' : `   (answers ${route.status})`;
    output.out(`${route.service.padEnd(12)} ${route.url}${state}\n`);
    if (ingressUrl !== undefined) output.out(`${''.padEnd(12)} curl -H 'Host: ${route.host}' ${new URL(route.path, ingressUrl).href}\n`);
  }
  output.out('\n');
  for (const line of after) output.out(`${line}\n`);
  if (result.outcome === 'ready' && result.pending.length > 0) output.err(`not all pods ready yet (diploid status shows them): ${result.pending.join(', ')}\n`);
  if (result.outcome === 'ready') return;
  if (result.outcome === 'stalled') throw new UserError(`the controller stopped: ${result.reason}: ${result.message}`);
  output.err(`gave up after ${elapsed(startedAt)} waiting for ${result.waitingFor}\n`);
  throw new ExitCode(1);
}
