import type * as k8s from '@kubernetes/client-node';
import { DEFAULT_BUILDER_IMAGE } from '../cluster/build-job.js';
import { ClusterConnections } from '../cluster/clusters.js';
import { HttpRegistryClient } from '../cluster/registry.js';
import type { RegistryCredentials } from '../cluster/registry-auth.js';
import { createGitHost } from '../hosts/create-host.js';
import { webhookRoutes, type WebhookRoute } from '../hosts/routes.js';
import { resolveRepoTargets, type RepoTarget } from '../hosts/targets.js';
import type { GitHost } from '../hosts/types.js';
import type { ConfigSpec } from '../model/config.js';
import type { RepoLocations } from '../sources/git/locate.js';
import { Workspace } from '../sources/git/workspace.js';
import { JobImageBuilder } from './builder.js';
import { KubeDeployer } from './deployer.js';
import { kubeLeftBehindCleaner } from './left-behind.js';
import { kubeAddonsHook, kubeSecretsHook } from './ops-hooks.js';
import { Reconciler } from './reconciler.js';
import { HostStatusReporter, noopStatusReporter, type StatusReporter } from './reporter.js';
import { ConfigMapStatusStore } from './status-store.js';
import { ConfigMapPinStore } from './pin-store.js';
import type { Notifier } from './notify.js';

export interface ControllerSettings {
  readonly ops: string;
  readonly locations: RepoLocations;
  readonly cacheDir: string;
  /** The controller's namespace: statuses and build Jobs live there. */
  readonly namespace: string;
  readonly builderImage?: string;
  /** Registry hosts reached over plain HTTP. */
  readonly plainHttpRegistries?: readonly string[];
  /** Registry credentials by host (from a Docker config), for the registry check; never logged. */
  readonly registryCredentials?: Readonly<Record<string, RegistryCredentials>>;
  readonly log: (line: string) => void;
  /** Opt-in notifications of deploys, failures, rollbacks and promotions. */
  readonly notifier?: Notifier;
}

/** The ops config on the ops repo's default branch: which repos and hosts to follow. */
export async function readOpsConfig(settings: Pick<ControllerSettings, 'ops' | 'locations' | 'cacheDir'>): Promise<ConfigSpec> {
  const workspace = new Workspace({ cacheDir: settings.cacheDir, ops: settings.ops, locations: settings.locations });
  const ops = await workspace.ops();
  const head = (await ops.branches()).get(await ops.defaultBranch());
  if (head === undefined) throw new Error(`the ops repo ${ops.url} has no default branch`);
  return (await workspace.config(head)).config;
}

/** Commit statuses through the config's git hosts, or nowhere when it names none. Hosts (and their tokens) are read once, on first use. */
export function statusReporterFor(config: ConfigSpec, log: (line: string) => void): StatusReporter {
  let targets: RepoTarget[];
  try {
    targets = resolveRepoTargets(config);
  } catch (error) {
    log(`commit statuses are off: ${error instanceof Error ? error.message : String(error)}`);
    return noopStatusReporter;
  }
  if (targets.length === 0) return noopStatusReporter;
  const hosts = new Map<string, Promise<GitHost>>();
  return new HostStatusReporter(
    targets,
    (target) => {
      let host = hosts.get(target.hostName);
      if (host === undefined) {
        host = createGitHost(target.hostName, target.host);
        // A token that cannot be read now may be there later (a Secret mounted late): forget the failure.
        host.catch(() => hosts.delete(target.hostName));
        hosts.set(target.hostName, host);
      }
      return host;
    },
    log,
  );
}

/** Webhook routes of every repo, each with its derived secret. */
export function routesFor(config: ConfigSpec, masterSecret: string): Map<string, WebhookRoute> {
  return webhookRoutes(resolveRepoTargets(config), masterSecret);
}

/** The reconciler wired to the real cluster, registry and git hosts. */
export function createReconciler(kube: k8s.KubeConfig, config: ConfigSpec, settings: ControllerSettings, reporter: StatusReporter = statusReporterFor(config, settings.log)): Reconciler {
  // Environments that name a cluster reach it with the kubeconfig of a Secret in the controller's namespace.
  const clusters = new ClusterConnections(kube, settings.namespace);
  return new Reconciler({
    ops: settings.ops,
    locations: settings.locations,
    cacheDir: settings.cacheDir,
    store: new ConfigMapStatusStore(kube, settings.namespace),
    pins: new ConfigMapPinStore(kube, settings.namespace),
    ...(settings.notifier === undefined ? {} : { notifier: settings.notifier }),
    builder: new JobImageBuilder(
      kube,
      new HttpRegistryClient({ plainHttp: settings.plainHttpRegistries ?? [], credentials: settings.registryCredentials ?? {} }),
      {
        namespace: settings.namespace,
        image: settings.builderImage ?? config.controller?.builderImage ?? DEFAULT_BUILDER_IMAGE,
        registrySecret: 'diploid-registry',
        gitSecret: 'diploid-git',
        buildkitdConfig: 'diploid-buildkitd',
        plainHttpRegistries: settings.plainHttpRegistries ?? [],
      },
    ),
    deployer: new KubeDeployer(kube, undefined, clusters),
    reporter,
    log: settings.log,
    secrets: kubeSecretsHook(kube, settings.namespace, settings.log, clusters),
    leftBehind: kubeLeftBehindCleaner(kube, settings.namespace, clusters),
    addons: kubeAddonsHook(kube, { controllerNamespace: settings.namespace, project: config.project, cacheDir: settings.cacheDir, log: settings.log }),
  });
}
