import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { statusOf } from '../cluster/kube-client.js';
import { RetryableError } from '../errors.js';
import type { HostEvent } from '../hosts/event.js';
import type { OfferResult } from './event-queue.js';
import type { ReconcileRequest } from './reconciler.js';
import { requestFromEvent } from './requests.js';

/** Name of the ConfigMap holding requests waiting for the leader, in the controller's namespace. */
export const INBOX_NAME = 'diploid-inbox';

/** A request waiting in the inbox, with what identifies this version of it (for `ack`). */
export interface InboxEntry {
  readonly key: string;
  readonly value: string;
  readonly request: ReconcileRequest;
}

/**
 * The hand-off between replicas: every replica's webhook endpoint writes the request an event
 * makes into a ConfigMap; the leader reads it, reconciles, and only then removes the entry. One
 * entry per repo and branch (the newest wins: only a branch's head is deployed anyway). A replica
 * that dies mid-reconcile leaves its entry for the next leader: nothing is lost, and reconciling
 * it again changes nothing that is already done. Writes carry the resourceVersion they read.
 */
export class ClusterInbox {
  private readonly core: k8s.CoreV1Api;

  constructor(config: k8s.KubeConfig, private readonly namespace: string, private readonly now: () => Date = () => new Date()) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
  }

  /** The webhook server's sink: an event that changes no environment is acknowledged and dropped. */
  async offer(event: HostEvent): Promise<OfferResult> {
    const request = requestFromEvent(event);
    if (request === undefined) return 'queued';
    await this.put(request);
    return 'queued';
  }

  async put(request: ReconcileRequest): Promise<void> {
    const key = createHash('sha256').update(`${request.repo}\0${request.branch}`).digest('hex').slice(0, 40);
    const value = JSON.stringify({ request, at: this.now().toISOString() });
    await this.change((data) => ({ ...data, [key]: value }));
  }

  /** What waits, oldest first; entries stay until `ack`ed. */
  async entries(): Promise<InboxEntry[]> {
    const map = await this.read();
    const entries: Array<InboxEntry & { at: string }> = [];
    for (const [key, value] of Object.entries(map?.data ?? {})) {
      try {
        const parsed = JSON.parse(value) as { request?: ReconcileRequest; at?: string };
        if (parsed.request === undefined || typeof parsed.request.repo !== 'string' || typeof parsed.request.branch !== 'string') continue;
        entries.push({ key, value, request: parsed.request, at: parsed.at ?? '' });
      } catch {
        // Not ours to read; left alone.
      }
    }
    return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).map(({ key, value, request }) => ({ key, value, request }));
  }

  /** Removes an entry once reconciled, unless a newer push replaced it meanwhile (that one still waits). */
  async ack(entry: InboxEntry): Promise<void> {
    await this.change((data) => {
      if (data[entry.key] !== entry.value) return undefined;
      const { [entry.key]: _done, ...rest } = data;
      return rest;
    });
  }

  /** Read, change, write with the read's resourceVersion; again on a conflict. `undefined` from `edit` writes nothing. */
  private async change(edit: (data: Record<string, string>) => Record<string, string> | undefined): Promise<void> {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const current = await this.read();
      const data = edit({ ...(current?.data ?? {}) });
      if (data === undefined) return;
      try {
        if (current === undefined) {
          await this.core.createNamespacedConfigMap({ namespace: this.namespace, body: { metadata: { name: INBOX_NAME, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'diploid' } }, data } });
        } else {
          await this.core.replaceNamespacedConfigMap({ name: INBOX_NAME, namespace: this.namespace, body: { ...current, data } });
        }
        return;
      } catch (error) {
        if (statusOf(error) === 409) continue;
        throw error;
      }
    }
    throw new RetryableError(`the inbox ${this.namespace}/${INBOX_NAME} kept changing under us; try again`);
  }

  private async read(): Promise<k8s.V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ name: INBOX_NAME, namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }
}
