/**
 * A second test bed, kwok only, for tests of more than one cluster: its own control plane
 * (etcd, kube-apiserver, controller-manager, scheduler, kwok), registry and git server, on
 * ports the kernel hands out at start, in a folder of its own. It never starts a real node, so it
 * never takes the machine's real-node lock that the shared bed holds.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { down, reapOrphans, up } from '../../testbed/bed.js';
import type { TestbedState } from '../../testbed/state.js';

/** Second beds live in `<tmp>/diploid-second-bed-XXXXXX`; the shared bed's setup reaps other prefixes. */
const prefix = 'diploid-second-bed-';

const log = (message: string): void => {
  process.stderr.write(`[second bed] ${message}\n`);
};

export interface SecondBed {
  readonly state: TestbedState;
  /** A client of its API server, as its admin. */
  readonly kube: k8s.KubeConfig;
  /**
   * A self-contained kubeconfig (the CA and the token inline), as a user puts into a Secret for
   * diploid: the server's certificate is verified for real.
   */
  readonly kubeconfig: string;
  stop(): Promise<void>;
}

/** Starts a second bed (a run killed before its teardown left one behind: that one is stopped first). */
export async function startSecondBed(): Promise<SecondBed> {
  await reapOrphans(tmpdir(), prefix, log);
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const started = Date.now();
  const { state } = await up({ stateDir, log, owned: true, realNode: false });
  log(`up in ${((Date.now() - started) / 1000).toFixed(1)}s (${stateDir})`);
  const kubernetes = state.kubernetes;
  if (kubernetes === undefined) {
    await down({ stateDir, log });
    throw new Error(`the second bed's control plane did not start: ${state.problems.kubernetes ?? 'no reason recorded'}`);
  }
  const ca = readFileSync(join(stateDir, 'kubernetes', 'certs', 'apiserver.crt')).toString('base64');
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: second
  cluster:
    server: ${kubernetes.server}
    certificate-authority-data: ${ca}
users:
- name: diploid
  user:
    token: ${kubernetes.token}
contexts:
- name: second
  context:
    cluster: second
    user: diploid
current-context: second
`;
  const kube = new k8s.KubeConfig();
  kube.loadFromString(kubeconfig);
  return { state, kube, kubeconfig, stop: () => down({ stateDir, log: () => {} }) };
}
