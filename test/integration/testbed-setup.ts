/**
 * Vitest global setup of the integration project: starts one test bed for the whole run (building
 * its binaries first if the cache lacks them), provides it to tests as `inject('testbed')`, and
 * tears it down at the end.
 *
 * A bed already started with `scripts/testbed up` (in DIPLOID_TESTBED_DIR or `.testbed/`) is
 * reused when healthy and left running. A part that cannot start doesn't stop the run: it is
 * reported here, loudly, and every test that needs it fails with the reason.
 * DIPLOID_TESTBED_KEEP=1 keeps the bed's folder and logs after the run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { completeRunning, down, reapOrphans, status, up } from '../../testbed/bed.js';
import { binDir, defaultStateDir } from '../../testbed/config.js';
import type { TestbedState } from '../../testbed/state.js';
import type { TestbedInfo } from './testbed.js';

/** Private beds live in `<tmp>/diploid-testbed-XXXXXX`. */
const prefix = 'diploid-testbed-';

const log = (message: string): void => {
  process.stderr.write(`[testbed] ${message}\n`);
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = await status(defaultStateDir());
  if (existing.state !== undefined && existing.parts.length > 0 && existing.parts.every((p) => p.ok)) {
    log(`reusing the running bed in ${existing.state.stateDir} (left running afterwards)`);
    await completeRunning(existing.state, log);
    project.provide('testbed', toInfo(existing.state, true));
    return async () => {};
  }

  await reapOrphans(tmpdir(), prefix, log);
  const stateDir = mkdtempSync(join(tmpdir(), prefix));
  const started = Date.now();
  let info: TestbedInfo;
  try {
    const { state } = await up({ stateDir, log, owned: true });
    info = toInfo(state, false);
    log(`up in ${((Date.now() - started) / 1000).toFixed(1)}s (${stateDir})`);
  } catch (error) {
    // up() records per-part failures itself; this is anything else. Tests will all fail with it.
    const reason = `the test bed failed to start: ${error instanceof Error ? error.message : String(error)}`;
    info = { stateDir, binDir: binDir(), reused: false, problems: { kubernetes: reason, registry: reason, git: reason, node: reason, ingress: reason } };
  }
  for (const [part, problem] of Object.entries(info.problems)) {
    log(`!!! ${part.toUpperCase()} IS NOT AVAILABLE; tests that need it will FAIL: ${problem}`);
  }
  project.provide('testbed', info);
  return async () => {
    // DIPLOID_TESTBED_KEEP=1 keeps the state folder, with every daemon's log, for a post-mortem.
    const keepFiles = process.env['DIPLOID_TESTBED_KEEP'] === '1';
    await down({ stateDir, log: keepFiles ? log : () => {}, keepFiles });
    log('down');
  };
}

function toInfo(state: TestbedState, reused: boolean): TestbedInfo {
  const { kubernetes, registry, git, node, ingress, gateway } = state;
  return {
    stateDir: state.stateDir,
    binDir: binDir(),
    reused,
    problems: { ...state.problems },
    ...(kubernetes && {
      kubernetes: {
        kubeconfig: kubernetes.kubeconfig,
        server: kubernetes.server,
        token: kubernetes.token,
        nodeName: kubernetes.nodeName,
      },
    }),
    ...(registry && { registry: { host: registry.host, url: registry.url } }),
    ...(git && { git: { url: git.url } }),
    ...(node && { node: { nodeName: node.nodeName, podSubnet: node.podSubnet, dnsServer: node.dnsServer } }),
    ...(ingress && { ingress: { url: ingress.url, className: ingress.className, gateway: ingress.gateway } }),
    ...(gateway && { podGateway: { address: gateway.address, registry: gateway.registry, gitUrl: gateway.gitUrl } }),
  };
}
