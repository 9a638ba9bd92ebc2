import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { deployEnvironment, type DeployResult } from '../cluster/deploy.js';
import { statusOf } from '../cluster/kube-client.js';
import { TerminalError } from '../errors.js';

/** What the reconciler needs to know about an environment to deploy it. */
export interface DeployTarget {
  readonly project: string;
  readonly environment: string;
  readonly namespace: string;
}

/** Puts an environment's objects in the cluster, and takes previews away. */
export interface Deployer {
  /**
   * Apply, wait for the rollout, prune by inventory only when it succeeded. `onlyChanged` applies
   * only objects whose desired content changed since the last inventory (a push); a resync applies all.
   */
  deploy(objects: readonly KubeObject[], target: DeployTarget, options?: { readonly onlyChanged?: boolean }): Promise<DeployResult>;
  /** Deletes a preview's namespace; a namespace diploid did not create is refused. */
  teardown(namespace: string): Promise<'deleted' | 'absent'>;
}

export class KubeDeployer implements Deployer {
  constructor(private readonly config: k8s.KubeConfig, private readonly timeoutMs = 300_000) {}

  deploy(objects: readonly KubeObject[], target: DeployTarget, options: { readonly onlyChanged?: boolean } = {}): Promise<DeployResult> {
    return deployEnvironment(this.config, objects, { ...target, prune: true, wait: true, timeoutMs: this.timeoutMs, onlyChanged: options.onlyChanged === true });
  }

  async teardown(namespace: string): Promise<'deleted' | 'absent'> {
    const core = this.config.makeApiClient(k8s.CoreV1Api);
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
}
