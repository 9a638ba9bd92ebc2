/**
 * What rebuilding a cluster from the ops repo needs that git does not hold. Pure: the config,
 * the secret files and the add-ons in, a list out.
 */
import type { ConfigSpec } from '../model/config.js';
import { DEFAULT_KEY_SECRET, KEY_SECRET_KEY } from '../secrets/layout.js';

/** Namespace of the controller unless `controller.namespace` says otherwise (as `diploid init` uses). */
const CONTROLLER_NAMESPACE = 'diploid-system';

/** One thing to bring back, and where it goes. */
export interface RebuildNeed {
  /** `key`: the cluster's private key; `token`: a git host token; `regenerable`: a new one works; `credential`: other. */
  readonly kind: 'key' | 'token' | 'regenerable' | 'credential';
  readonly what: string;
  /** Where it goes in the new cluster. */
  readonly where: string;
  /** Why it is needed, or how to make a new one. */
  readonly note: string;
}

export interface RebuildPlan {
  /** Outside git: without these the rebuild cannot finish. */
  readonly outsideGit: readonly RebuildNeed[];
  /** Outside git but replaceable by a new value. */
  readonly regenerable: readonly RebuildNeed[];
  /** From git: what the ops repo brings back by itself. */
  readonly fromGit: {
    readonly environments: readonly string[];
    readonly secretFiles: readonly string[];
    readonly addonObjects: number;
    readonly remoteAddons: readonly string[];
    /** Add-on objects per other cluster of `clusters` that gets add-ons (home's are `addonObjects`). */
    readonly addonClusters: readonly AddonClusterCount[];
  };
}

export interface AddonClusterCount {
  readonly cluster: string;
  readonly objects: number;
}

export interface RebuildInput {
  readonly config: ConfigSpec;
  /** Paths of the encrypted secret files. */
  readonly secretFiles: readonly string[];
  readonly addonObjects: number;
  /** The other clusters that get add-ons, and how many objects each. */
  readonly addonClusters?: readonly AddonClusterCount[];
}

export function rebuildPlan(input: RebuildInput): RebuildPlan {
  const { config } = input;
  const namespace = config.controller?.namespace ?? CONTROLLER_NAMESPACE;
  const outsideGit: RebuildNeed[] = [];
  const regenerable: RebuildNeed[] = [];
  if (config.secrets !== undefined || input.secretFiles.length > 0) {
    const recipient = config.secrets?.recipients.cluster;
    outsideGit.push({
      kind: 'key',
      what: `the cluster's age private key${recipient === undefined ? '' : ` (public key ${recipient})`}`,
      where: `Secret ${namespace}/${config.secrets?.keySecret ?? DEFAULT_KEY_SECRET}, key ${KEY_SECRET_KEY}`,
      note: `decrypts the ${input.secretFiles.length} secret file${input.secretFiles.length === 1 ? '' : 's'}; only your safe has it`,
    });
  }
  for (const [name, host] of Object.entries(config.git?.hosts ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    outsideGit.push({
      kind: 'token',
      what: `git token of host ${name} (${host.provider})`,
      where: 'env' in host.token ? `Secret ${namespace}/diploid, key ${host.token.env}` : `Secret ${namespace}/diploid, file ${host.token.file}`,
      note: 'reads the repos, sets commit statuses and registers webhooks',
    });
  }
  if (config.registry !== undefined) {
    outsideGit.push({ kind: 'credential', what: `push credentials of registry ${config.registry.url}`, where: `Secret ${namespace}/diploid-registry (kubernetes.io/dockerconfigjson)`, note: 'lets build Jobs push; images already in the registry are not rebuilt, so deploys work without it' });
    if (config.registry.pullSecret !== undefined) {
      outsideGit.push({ kind: 'credential', what: `image pull Secret ${config.registry.pullSecret}`, where: `each environment's namespace (or secrets/${config.registry.pullSecret}.yaml)`, note: 'pulls from a private registry' });
    }
  }
  for (const [name, cluster] of Object.entries(config.clusters ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const environments = Object.entries(config.environments).filter(([, environment]) => environment.cluster === name).map(([environment]) => environment).sort();
    const addons = input.addonClusters?.find((item) => item.cluster === name);
    const reaches = [...(environments.length === 0 ? [] : [`environments ${environments.join(', ')}`]), ...(addons === undefined ? [] : [`${addons.objects} add-on object${addons.objects === 1 ? '' : 's'}`])];
    outsideGit.push({
      kind: 'credential',
      what: `kubeconfig of cluster ${name}`,
      where: `Secret ${namespace}/${cluster.kubeconfigSecret}, key ${cluster.key ?? 'kubeconfig'}`,
      note: `reaches cluster ${name}${reaches.length === 0 ? '' : ` (${reaches.join('; ')})`}, with the rights it grants there`,
    });
  }
  const webhook = config.webhooks?.secret ?? { env: 'DIPLOID_WEBHOOK_SECRET' };
  regenerable.push({
    kind: 'regenerable',
    what: 'the webhook master secret',
    where: 'env' in webhook ? `Secret ${namespace}/diploid, key ${webhook.env}` : `Secret ${namespace}/diploid, file ${webhook.file}`,
    note: '`diploid webhooks secret` makes a new one; `diploid init` registers the webhooks again with it',
  });
  return {
    outsideGit,
    regenerable,
    fromGit: {
      environments: Object.keys(config.environments).sort(),
      secretFiles: [...input.secretFiles].sort(),
      addonObjects: input.addonObjects,
      remoteAddons: (config.addons?.remote ?? []).map((remote) => remote.url),
      addonClusters: [...(input.addonClusters ?? [])],
    },
  };
}

/** The plan as text for people. */
export function formatRebuildPlan(plan: RebuildPlan): string {
  const lines = ['A cluster rebuilt from the ops repo needs, from outside git:'];
  plan.outsideGit.forEach((need, index) => lines.push(`  ${index + 1}. ${need.what}`, `     -> ${need.where}: ${need.note}`));
  if (plan.outsideGit.length === 0) lines.push('  nothing');
  lines.push('', 'Replaceable (a new one works):');
  for (const need of plan.regenerable) lines.push(`  - ${need.what}`, `     -> ${need.where}: ${need.note}`);
  lines.push('', 'From git, by `diploid init` and the controller:');
  const objects = (count: number) => `${count} object${count === 1 ? '' : 's'}`;
  const perCluster = plan.fromGit.addonClusters.map((item) => `; cluster ${item.cluster}: ${objects(item.objects)}`).join('');
  lines.push(`  - add-ons: ${objects(plan.fromGit.addonObjects)}${perCluster === '' ? '' : ` in the controller's cluster${perCluster}`}${plan.fromGit.remoteAddons.length === 0 ? '' : ` (with ${plan.fromGit.remoteAddons.length} remote manifest${plan.fromGit.remoteAddons.length === 1 ? '' : 's'} pinned by sha256; their URLs must answer: ${plan.fromGit.remoteAddons.join(', ')})`}`);
  lines.push(`  - secrets: ${plan.fromGit.secretFiles.length === 0 ? 'none' : plan.fromGit.secretFiles.join(', ')} (encrypted)`);
  lines.push(`  - environments at their branch heads: ${plan.fromGit.environments.join(', ')}; previews of branches still alive`);
  return `${lines.join('\n')}\n`;
}
