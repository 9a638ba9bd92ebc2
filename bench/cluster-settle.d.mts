// Types of cluster-settle.mjs (plain JavaScript: the push bench runs it with node, without a loader).
import type { KubeConfig } from '@kubernetes/client-node';

/** Writes by `VERB group/resource[/subresource]` (core group shown as `core`), heartbeats left out. */
export type Writes = Map<string, number>;

export function isHeartbeat(group: string, resource: string, subresource: string): boolean;
export function writesFromMetrics(text: string): Writes;
export function writesBetween(before: Writes, after: Writes): Writes;
export function controllerManagerWork(text: string): Map<string, string>;
export function describeWrites(writes: Writes, limit?: number): string;

export interface SettleResult {
  readonly ms: number;
  readonly atRest: boolean;
  readonly written: Writes;
  readonly lastWrites: Writes;
  readonly busy: Map<string, string>;
}

export function settleCluster(options: {
  kube: KubeConfig;
  controllerManagerMetrics?: string;
  quietMs?: number;
  timeoutMs?: number;
  intervalMs?: number;
}): Promise<SettleResult>;

export function describeSettle(result: SettleResult, quietMs?: number): string;
