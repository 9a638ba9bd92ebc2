import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import type { ClusterConnections } from '../cluster/clusters.js';
import { deployEnvironment, type DeployResult } from '../cluster/deploy.js';
import { statusOf } from '../cluster/kube-client.js';
import { TerminalError } from '../errors.js';
import type { ResolvedCluster } from '../resolve/model.js';

/** What the reconciler needs to know about an environment to deploy it. */
export interface DeployTarget {
  readonly project: string;
  readonly environment: string;
  readonly namespace: string;
  /** Another cluster than the controller's own, when the environment names one. */
  readonly cluster?: ResolvedCluster;
}

/** Puts an environment's objects in the cluster, and takes previews away. */
export interface Deployer {
  /**
   * Apply, wait for the rollout, prune by inventory only when it succeeded. `onlyChanged` applies
   * only objects whose desired content changed since the last inventory (a push); a resync applies all.
   */
  deploy(objects: readonly KubeObject[], target: DeployTarget, options?: { readonly onlyChanged?: boolean }): Promise<DeployResult>;
  /** Deletes a preview's namespace (in `cluster`, when set); a namespace diploid did not create is refused. */
  teardown(namespace: string, cluster?: ResolvedCluster): Promise<'deleted' | 'absent'>;
}

/**
 * Deploys with server-side apply. An environment that names a cluster goes there, with the
 * kubeconfig of its Secret (`clusters`); the others go to `config`'s cluster.
 */
export class KubeDeployer implements Deployer {
  constructor(private readonly config: k8s.KubeConfig, private readonly timeoutMs = 300_000, private readonly clusters?: ClusterConnections) {}

  async deploy(objects: readonly KubeObject[], target: DeployTarget, options: { readonly onlyChanged?: boolean } = {}): Promise<DeployResult> {
    const { cluster: _cluster, ...rest } = target;
    return deployEnvironment(await this.configOf(target.cluster), objects, { ...rest, prune: true, wait: true, timeoutMs: this.timeoutMs, onlyChanged: options.onlyChanged === true });
  }

  async teardown(namespace: string, cluster?: ResolvedCluster): Promise<'deleted' | 'absent'> {
    const core = (await this.configOf(cluster)).makeApiClient(k8s.CoreV1Api);
    let current: k8s.V1Namespace;
    try {
      current = await core.readNamespace({ name: namespace });
    } catch (error) {
      if (statusOf(error) === 404) return 'absent';
      throw error;
    }
    // Never delete what someone else made, even when a preview's name points at it.
    if (current.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'diploid') {
      throw new TerminalError('NotOurs', `namespace ${namespace} was not created by diploid (no app.kubernetes.io/managed-by=diploid label); delete it yourself if it should go`);
    }
    if (current.metadata?.deletionTimestamp !== undefined) return 'deleted';
    try {
      await core.deleteNamespace({ name: namespace });
    } catch (error) {
      if (statusOf(error) === 404) return 'absent';
      throw error;
    }
    return 'deleted';
  }

  private configOf(cluster: ResolvedCluster | undefined): Promise<k8s.KubeConfig> | k8s.KubeConfig {
    if (cluster === undefined) return this.config;
    if (this.clusters === undefined) throw new TerminalError('ClusterUnknown', `cluster ${cluster.name}: this controller was started without access to other clusters`);
    return this.clusters.config(cluster);
  }
}
