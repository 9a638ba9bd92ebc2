import * as k8s from '@kubernetes/client-node';
import { statusOf } from '../cluster/kube-client.js';

export interface LeaseOptions {
  /** The Lease's name in the controller's namespace. */
  readonly name?: string;
  /** How long a leader's claim lasts without renewal; another replica may take over after it. */
  readonly durationMs?: number;
  /** How often the leader renews (well under `durationMs`) and followers retry. */
  readonly renewMs?: number;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

/**
 * Leader election through a `coordination.k8s.io/v1` Lease, the way controller-runtime does it:
 * the leader renews the Lease's `renewTime`; a replica takes the Lease over only when it was not
 * renewed for `leaseDurationSeconds`. Every write carries the resourceVersion it read, so two
 * replicas can never both win the same Lease.
 */
export class LeaseElector {
  private readonly coordination: k8s.CoordinationV1Api;
  private readonly name: string;
  private readonly durationMs: number;
  private readonly renewMs: number;
  private readonly now: () => Date;
  private readonly log: (line: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private running = false;

  constructor(config: k8s.KubeConfig, private readonly namespace: string, readonly identity: string, options: LeaseOptions = {}) {
    this.coordination = config.makeApiClient(k8s.CoordinationV1Api);
    this.name = options.name ?? 'diploid-controller-leader';
    this.durationMs = options.durationMs ?? 15_000;
    this.renewMs = options.renewMs ?? Math.max(200, Math.floor(this.durationMs / 3));
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? (() => {});
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** One round: take the Lease if it is free or expired, renew it if ours. Returns whether we lead now. */
  async step(): Promise<boolean> {
    const now = this.now();
    let lease: k8s.V1Lease | undefined;
    try {
      lease = await this.coordination.readNamespacedLease({ name: this.name, namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    const spec: k8s.V1LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
      renewTime: new k8s.V1MicroTime(now.getTime()),
    };
    try {
      if (lease === undefined) {
        await this.coordination.createNamespacedLease({ namespace: this.namespace, body: { metadata: { name: this.name, namespace: this.namespace }, spec: { ...spec, acquireTime: new k8s.V1MicroTime(now.getTime()), leaseTransitions: 0 } } });
        return true;
      }
      const holder = lease.spec?.holderIdentity;
      if (holder !== undefined && holder !== '' && holder !== this.identity) {
        const renewed = lease.spec?.renewTime === undefined ? 0 : new Date(lease.spec.renewTime).getTime();
        const lasts = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
        if (renewed + lasts > now.getTime()) return false;
        this.log(`leader election: the lease of ${holder} expired; taking over`);
      }
      const mine = holder === this.identity;
      // The resourceVersion read above makes this a compare-and-swap: a concurrent write makes it fail with 409.
      await this.coordination.replaceNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            ...spec,
            ...(mine ? {} : { acquireTime: new k8s.V1MicroTime(now.getTime()), leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }),
          },
        },
      });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }

  /**
   * Campaigns until `stop`: calls `onLead` when this replica becomes the leader, `onLose` when it
   * stops being one (a renewal failed past the lease's duration, or another replica took over).
   */
  run(onLead: () => void, onLose: () => void): void {
    this.running = true;
    let lastRenewed = 0;
    const tick = async () => {
      if (!this.running) return;
      let leads = false;
      try {
        leads = await this.step();
        if (leads) lastRenewed = Date.now();
      } catch (error) {
        this.log(`leader election: ${error instanceof Error ? error.message : String(error)}`);
        // Cannot reach the API server: still the leader only while our last renewal holds.
        leads = this.leading && Date.now() - lastRenewed < this.durationMs;
      }
      if (!this.running) return;
      if (leads && !this.leading) {
        this.leading = true;
        this.log(`leader election: ${this.identity} leads`);
        onLead();
      } else if (!leads && this.leading) {
        this.leading = false;
        this.log(`leader election: ${this.identity} no longer leads`);
        onLose();
      }
      this.timer = setTimeout(() => void tick(), this.renewMs);
    };
    void tick();
  }

  /** Stops campaigning; `release` gives the Lease up at once (a clean shutdown) so another replica need not wait. */
  async stop(release: boolean): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (!release || !this.leading) return;
    this.leading = false;
    try {
      const lease = await this.coordination.readNamespacedLease({ name: this.name, namespace: this.namespace });
      if (lease.spec?.holderIdentity !== this.identity) return;
      await this.coordination.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: '', renewTime: new k8s.V1MicroTime(0) } } });
    } catch (error) {
      this.log(`leader election: could not release the lease: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
