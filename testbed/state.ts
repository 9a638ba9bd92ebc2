/** The state file of one running bed: what runs, where it listens, and what could not start. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.js';
import type { GitServer } from './git.js';
import type { IngressController } from './ingress.js';
import type { RealNode } from './node.js';
import type { PodGateway } from './pod-gateway.js';
import type { ProcessRecord } from './processes.js';
import type { Registry } from './registry.js';

/** The bed's independent parts; one failing doesn't stop the others. */
export type Part = 'kubernetes' | 'registry' | 'git' | 'node' | 'ingress';
export const parts: readonly Part[] = ['kubernetes', 'registry', 'git', 'node', 'ingress'];

export interface TestbedState {
  readonly stateDir: string;
  readonly startedAt: string;
  /** Every daemon started, in start order; `down` stops them in reverse. */
  processes: ProcessRecord[];
  kubernetes?: ControlPlane;
  registry?: Registry;
  git?: GitServer;
  /** The real node (kubelet, containerd, kube-proxy, CoreDNS), next to kwok's fake one. */
  node?: RealNode;
  /** Traefik, serving Ingress and Gateway API objects of class `traefik` on loopback. */
  ingress?: IngressController;
  /** The API server, registry and git server at the address pods reach (see pod-gateway.ts). */
  gateway?: PodGateway;
  /** Why a part could not start: tests that need it fail with this reason. */
  problems: Partial<Record<Part, string>>;
  /** Parts left out on purpose (DIPLOID_TESTBED_REAL_NODE=0): healthy by absence. */
  skipped?: Part[];
  /** False while `up` is still starting things. */
  complete: boolean;
  /**
   * The process whose lifetime bounds the bed's (a test run), if any: a bed whose owner died
   * without tearing it down is an orphan, stopped by the next run (`reapOrphans`).
   */
  owner?: { readonly pid: number; readonly startTime: string };

}

export function stateFile(stateDir: string): string {
  return join(stateDir, 'state.json');
}

export function readState(stateDir: string): TestbedState | undefined {
  const file = stateFile(stateDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as TestbedState;
}

/** Writes atomically, so a reader never sees half a file. */
export function writeState(state: TestbedState): void {
  const file = stateFile(state.stateDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
