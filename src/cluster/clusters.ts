/**
 * Clusters other than the controller's own: an environment that names one in `cluster` is
 * deployed with the kubeconfig of a Secret in the controller's namespace, as Flux's
 * `kubeConfig.secretRef` and Argo CD's cluster Secrets do. The user creates the Secret; it is
 * never in git. The Secret is read at every deploy, so a replaced one needs no restart; the
 * client made from it is kept while the Secret's resourceVersion stays the same.
 *
 * The kubeconfig's content is a credential: no message, log line or status ever quotes it.
 */
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { RetryableError } from '../errors.js';
import type { ResolvedCluster } from '../resolve/model.js';
import { PooledKubeConfig, reasonOf, statusOf } from './kube-client.js';

/** Why a cluster's Secret cannot be used, as the status condition's reason. */
export type ClusterSecretReason = 'ClusterSecretMissing' | 'ClusterSecretInvalid' | 'ClusterSecretUnreadable';

/**
 * A cluster's Secret is missing, unreadable or holds no usable kubeconfig. Fixed in the home
 * cluster (the Secret created or replaced), not in git, so it is retried with backoff.
 */
export class ClusterSecretError extends RetryableError {
  override readonly name = 'ClusterSecretError';
  override readonly reason: ClusterSecretReason;
  constructor(reason: ClusterSecretReason, readonly cluster: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * Fields a kubeconfig may hold that make the client read a file or run a program of the
 * controller's machine. A kubeconfig that anyone able to write a Secret could hand in must not
 * send the controller's own service account token (a file) to a server of their choosing, nor
 * run a command in the controller's pod: the credentials must be inline.
 */
const REFUSED_USER_FIELDS = ['exec', 'auth-provider', 'token-file', 'tokenFile', 'client-certificate', 'client-key'] as const;
const REFUSED_CLUSTER_FIELDS = ['certificate-authority'] as const;

/** Where to find a cluster's Secret, and the home cluster it is read from. */
export class ClusterConnections {
  private readonly core: k8s.CoreV1Api;
  private readonly made = new Map<string, { version: string; config: k8s.KubeConfig }>();

  /** `namespace`: the controller's, where the clusters' Secrets live. */
  constructor(readonly home: k8s.KubeConfig, readonly namespace: string) {
    this.core = home.makeApiClient(k8s.CoreV1Api);
  }

  /** The client of `cluster`, or of the home cluster when no cluster is named. */
  async config(cluster: ResolvedCluster | undefined): Promise<k8s.KubeConfig> {
    if (cluster === undefined) return this.home;
    const where = `Secret ${this.namespace}/${cluster.secret}`;
    let secret: k8s.V1Secret;
    try {
      secret = await this.core.readNamespacedSecret({ name: cluster.secret, namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) === 404) {
        throw new ClusterSecretError('ClusterSecretMissing', cluster.name, `cluster ${cluster.name}: ${where} does not exist; create it with the cluster's kubeconfig: kubectl -n ${this.namespace} create secret generic ${cluster.secret} --from-file=${cluster.key}=KUBECONFIG_FILE`, { cause: error });
      }
      const status = statusOf(error);
      if (status !== undefined && status < 500) throw new ClusterSecretError('ClusterSecretUnreadable', cluster.name, `cluster ${cluster.name}: cannot read ${where}: ${reasonOf(error)}`, { cause: error });
      throw error;
    }
    const version = secret.metadata?.resourceVersion ?? '';
    const id = `${cluster.secret}\u0000${cluster.key}`;
    const known = this.made.get(id);
    if (known !== undefined && known.version === version && version !== '') return known.config;
    const encoded = secret.data?.[cluster.key];
    if (encoded === undefined) {
      const keys = Object.keys(secret.data ?? {}).sort();
      throw new ClusterSecretError('ClusterSecretInvalid', cluster.name, `cluster ${cluster.name}: ${where} has no key "${cluster.key}" (it has ${keys.length === 0 ? 'no keys' : keys.join(', ')}); put the kubeconfig under "${cluster.key}", or set clusters.${cluster.name}.key`);
    }
    const config = kubeConfigOf(Buffer.from(encoded, 'base64').toString('utf8'), `cluster ${cluster.name}: ${where} key "${cluster.key}"`, cluster.name);
    this.made.set(id, { version, config });
    return config;
  }
}

/**
 * A client from a kubeconfig held in a Secret, after checking that it carries its credentials
 * inline. `where` names the Secret in messages; the content never appears in one (a YAML
 * parser's message quotes the text it failed on, so it is not kept as the cause either).
 */
export function kubeConfigOf(text: string, where: string, cluster: string): k8s.KubeConfig {
  const invalid = (why: string) => new ClusterSecretError('ClusterSecretInvalid', cluster, `${where}: ${why}`);
  let document: unknown;
  try {
    document = parse(text);
  } catch {
    throw invalid('is not a kubeconfig: it does not parse as YAML');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid('is not a kubeconfig: expected a mapping with clusters, users, contexts and current-context');
  const refused = refusedFields(document as Record<string, unknown>);
  if (refused.length > 0) {
    throw invalid(`uses ${refused.join(', ')}, which would make diploid read files or run programs of its own machine; give the credentials inline (token, client-certificate-data and client-key-data, certificate-authority-data)`);
  }
  const config = new PooledKubeConfig();
  try {
    config.loadFromString(text);
  } catch {
    throw invalid('is not a valid kubeconfig (clusters, users and contexts each need a name, clusters a server)');
  }
  const context = config.getContextObject(config.getCurrentContext());
  if (context === null) throw invalid('names no current-context, or one that its contexts lack');
  const server = config.getCluster(context.cluster)?.server;
  // Names of the kubeconfig's entries are left out of messages too: nothing of its content is quoted.
  if (server === undefined || server === '') throw invalid("its current context's cluster is missing or has no server");
  if (config.getUser(context.user) === null) throw invalid("its current context's user is missing");
  return config;
}

/** Paths (by index, never by value) of the fields diploid refuses in a kubeconfig. Pure. */
export function refusedFields(document: Readonly<Record<string, unknown>>): string[] {
  const found: string[] = [];
  const scan = (list: unknown, entry: string, refused: readonly string[]) => {
    if (!Array.isArray(list)) return;
    list.forEach((item: unknown, index) => {
      const fields = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[entry] : undefined;
      if (typeof fields !== 'object' || fields === null) return;
      for (const field of refused) if (Object.hasOwn(fields, field)) found.push(`${entry}s[${index}].${entry}.${field}`);
    });
  };
  scan(document['users'], 'user', REFUSED_USER_FIELDS);
  scan(document['clusters'], 'cluster', REFUSED_CLUSTER_FIELDS);
  return found;
}
