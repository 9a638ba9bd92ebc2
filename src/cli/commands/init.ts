import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { applyObjects } from '../../cluster/apply.js';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import {
  controllerManifests,
  DEFAULT_CONTROLLER_IMAGE,
  DEFAULT_CONTROLLER_NAMESPACE,
  DEFAULT_CONTROLLER_SECRET,
  SECRET_MOUNT,
  secretInstructions,
} from '../../controller/manifests.js';
import { addonsRbac } from '../../addons/rbac.js';
import type { KubeObject } from '../../backends/kubernetes/objects.js';
import { toYaml } from '../../backends/serialize.js';
import { DEFAULT_KEY_SECRET, KEY_SECRET_KEY } from '../../secrets/layout.js';
import { secretsRbac } from '../../secrets/rbac.js';
import { clustersRbac } from '../../cluster/clusters-rbac.js';
import { UserError } from '../../errors.js';
import type { ConfigSpec } from '../../model/config.js';
import { loadConfigForCommand } from '../load.js';
import { collect, DEFAULT_SECRET_ENV } from '../options.js';
import type { Output } from '../output.js';
import { registerWebhooks } from './webhooks.js';

interface InitOptions {
  kubeconfig?: string;
  dryRun?: boolean;
  opsUrl?: string;
  image?: string;
  plainHttpRegistry: string[];
  secretName: string;
  webhooks: boolean;
}

/** What `diploid init` installs for an ops repo, and what it tells the administrator to do by hand. */
export interface ControllerInstall {
  readonly namespace: string;
  readonly image: string;
  readonly objects: readonly KubeObject[];
  /** The Secrets to create (diploid never writes them), and the optional ones; printed on standard error. */
  readonly advice: string;
}

/** How to install the controller: `diploid init`'s options. */
export interface ControllerInstallOptions {
  /** Where the controller clones the ops repo (default: the ops folder's git remote origin). */
  readonly opsUrl?: string;
  /** The diploid image the controller runs (default: controller.image, else diploid's published name). */
  readonly image?: string;
  /** Registry hosts the controller reaches over plain HTTP. */
  readonly plainHttpRegistries?: readonly string[];
  /** The Secret the administrator creates with the webhook secret and git tokens. */
  readonly secretName?: string;
}

/**
 * The controller's objects for the ops repo in `opsDir` (whose config is `config`), and the advice
 * that goes with them. Reads nothing but the ops folder's git remote, when no URL is given.
 * `diploid init` prints or applies them; `diploid up` applies them.
 */
export function controllerInstall(opsDir: string, config: ConfigSpec, options: ControllerInstallOptions = {}): ControllerInstall {
  const opsUrl = withoutCredentials(options.opsUrl ?? originOf(opsDir));
  const namespace = config.controller?.namespace ?? DEFAULT_CONTROLLER_NAMESPACE;
  const secretName = options.secretName ?? DEFAULT_CONTROLLER_SECRET;
  const { secretEnv, fileSecrets } = secretsOf(config);
  const image = options.image ?? config.controller?.image ?? DEFAULT_CONTROLLER_IMAGE;
  const objects = controllerManifests({
    namespace,
    image,
    plainHttpRegistries: [...(options.plainHttpRegistries ?? [])],
    ...(config.controller?.builderImage === undefined ? {} : { builderImage: config.controller.builderImage }),
    opsUrl,
    ...(config.controller?.resync === undefined ? {} : { resync: config.controller.resync }),
    secretName,
    secretEnv,
    project: config.project,
  });
  objects.push(...opsExtras(config, namespace));
  const advice = [
    `The controller reads its secrets from Secret ${namespace}/${secretName}, which diploid never writes. Create it:`,
    '',
    secretInstructions(namespace, secretName, secretEnv),
    ...(fileSecrets.length === 0 ? [] : ['', `Secrets read from files (${fileSecrets.join(', ')}) must be keys of that Secret: it is mounted at ${SECRET_MOUNT}.`]),
    '',
    `Optional: Secret ${namespace}/diploid-registry (type kubernetes.io/dockerconfigjson) lets build Jobs push to the registry`,
    `and the controller check it; Secret ${namespace}/diploid-git (key password: a token) lets builds clone private repos;`,
    `ConfigMap ${namespace}/diploid-buildkitd (key buildkitd.toml) configures BuildKit (registry mirrors, plain-HTTP registries).`,
    '',
    ...keyAdvice(config, namespace),
    ...clusterAdvice(config, namespace),
    ...(image === DEFAULT_CONTROLLER_IMAGE ? [imageAdvice()] : []),
  ].join('\n');
  return { namespace, image, objects, advice };
}

/**
 * Registers the webhooks the ops config asks for (`webhooks.publicUrl`), with the master secret
 * where the config says; without a public URL it says the controller follows git by resync only.
 */
export async function registerConfiguredWebhooks(config: ConfigSpec, output: Output): Promise<void> {
  const publicUrl = config.webhooks?.publicUrl;
  if (publicUrl === undefined) {
    output.err('webhooks.publicUrl is not set: no webhooks registered; the controller follows git by resync only\n');
    return;
  }
  await registerWebhooks(config, publicUrl, config.webhooks?.secret ?? { env: DEFAULT_SECRET_ENV }, output);
}

/** Adds `diploid init`: installs the controller in the cluster and registers the webhooks. */
export function registerInitCommand(program: Command, output: Output): void {
  program
    .command('init')
    .description("Install diploid's controller in the cluster (server-side apply) and register webhooks on every repo.")
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG or ~/.kube/config)')
    .option('--dry-run', 'print the objects instead of applying them; register nothing')
    .option('--ops-url <url>', "URL the controller clones the ops repo from (default: the ops folder's git remote origin)")
    .option('--image <image>', `diploid image the controller runs (default: controller.image or ${DEFAULT_CONTROLLER_IMAGE})`)
    .option('--plain-http-registry <host>', 'registry host the controller reaches over plain HTTP (repeatable), e.g. one inside the cluster', collect, [])
    .option('--secret-name <name>', 'the Secret you create with the webhook secret and git tokens', DEFAULT_CONTROLLER_SECRET)
    .option('--no-webhooks', 'do not register webhooks, even when webhooks.publicUrl is set')
    .action(async (opsDir: string, options: InitOptions) => {
      const config = await loadConfigForCommand(opsDir, output);
      const install = controllerInstall(opsDir, config, {
        ...(options.opsUrl === undefined ? {} : { opsUrl: options.opsUrl }),
        ...(options.image === undefined ? {} : { image: options.image }),
        plainHttpRegistries: options.plainHttpRegistry,
        secretName: options.secretName,
      });
      if (options.dryRun === true) {
        output.out(install.objects.map((object) => toYaml(object)).join('---\n'));
        output.err(install.advice);
        return;
      }
      const applied = await applyObjects(kubeConfigFrom(options.kubeconfig), install.objects);
      for (const { object, outcome } of applied) output.out(`${outcome} ${object}\n`);
      output.err(install.advice);
      if (options.webhooks) await registerConfiguredWebhooks(config, output);
    });
}

/** The environment variables the controller needs from its Secret, and the secrets it reads from files. */
function secretsOf(config: ConfigSpec): { secretEnv: string[]; fileSecrets: string[] } {
  const sources = [config.webhooks?.secret ?? { env: 'DIPLOID_WEBHOOK_SECRET' }, ...Object.values(config.git?.hosts ?? {}).map((host) => host.token)];
  const secretEnv = [...new Set(sources.flatMap((source) => ('env' in source ? [source.env] : [])))].sort();
  const fileSecrets = [...new Set(sources.flatMap((source) => ('file' in source ? [source.file] : [])))].sort();
  return { secretEnv, fileSecrets };
}

function originOf(opsDir: string): string {
  let url: string;
  try {
    url = execFileSync('git', ['-C', opsDir, 'remote', 'get-url', 'origin'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new UserError(`cannot tell where the controller should clone the ops repo from: ${opsDir} has no git remote "origin"; pass --ops-url URL`);
  }
  return url;
}

/** A URL with credentials in it must not end up in a Deployment (or on the screen). */
function withoutCredentials(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(url)) throw new UserError('the ops repo URL has credentials in it; use a URL without them (the controller reads its git token from its Secret)');
  return url;
}

/** Rights for what the ops repo asks beyond environments: writing its Secrets, installing its add-ons. */
function opsExtras(config: ConfigSpec, namespace: string) {
  const who = { namespace, project: config.project, serviceAccount: 'diploid-controller' };
  return [...(config.secrets === undefined ? [] : secretsRbac(who)), ...(config.addons === undefined ? [] : addonsRbac(who)), ...clustersRbac(config, who)];
}

/** The default image is not published: say how to get one, rather than leave pods pulling in vain. */
function imageAdvice(): string {
  return [
    `Note: ${DEFAULT_CONTROLLER_IMAGE} is not published yet. Build diploid's image from the Dockerfile at the root of`,
    'diploid\'s repository, push it to a registry your cluster pulls from, and install with --image (or controller.image):',
    '',
    '  docker build -t registry.example.com/diploid:0.1.0 . && docker push registry.example.com/diploid:0.1.0',
    '  diploid init --image registry.example.com/diploid:0.1.0',
    '',
  ].join('\n');
}

/** How to give the controller the kubeconfig of each other cluster environments name. */
function clusterAdvice(config: ConfigSpec, namespace: string): string[] {
  const clusters = Object.entries(config.clusters ?? {});
  if (clusters.length === 0) return [];
  return [
    'Environments in other clusters are deployed with a kubeconfig you put in a Secret (credentials inline: a token or client certificate data; never exec plugins or file paths):',
    '',
    ...clusters.map(([name, cluster]) => `kubectl -n ${namespace} create secret generic ${cluster.kubeconfigSecret} --from-file=${cluster.key ?? 'kubeconfig'}=${name}.kubeconfig`),
    '',
  ];
}

/** How to give the controller the cluster's private key, when the ops repo keeps secrets. */
function keyAdvice(config: ConfigSpec, namespace: string): string[] {
  if (config.secrets === undefined) return [];
  const name = config.secrets.keySecret ?? DEFAULT_KEY_SECRET;
  return [
    `The controller decrypts the ops repo's secrets with the cluster's private key (from \`diploid secrets keygen\`; keep a copy in your safe):`,
    '',
    `kubectl -n ${namespace} create secret generic ${name} --from-file=${KEY_SECRET_KEY}=cluster.key`,
    '',
  ];
}
