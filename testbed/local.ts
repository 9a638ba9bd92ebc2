/**
 * The bed as `diploid up` uses it: `node --import tsx testbed/local.ts up` starts the bed (or
 * reuses a healthy one), makes sure diploid's own controller image is in its registry, and prints
 * on standard output one JSON object describing the bed (progress goes to standard error);
 * `... local.ts down` stops it. The CLI (compiled from src/) knows the bed only by that JSON.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { down, status, up, type Log } from './bed.js';
import { imagesBuilt, missingBinaries } from './build.js';
import { defaultStateDir, repoRoot } from './config.js';
import { ensureControllerImage } from './controller-image.js';
import { mirroredRegistries, realNodeNamespaceAnnotations } from './node-config.js';
import type { TestbedState } from './state.js';

/** What `diploid up` needs to know about a running bed. */
export interface LocalBed {
  readonly stateDir: string;
  readonly alreadyUp: boolean;
  readonly kubeconfig: string;
  /** host:port of the registry (plain HTTP). */
  readonly registry: string;
  /** Base URL of the git server: repositories are `${gitUrl}/<path>.git`; a push creates them. */
  readonly gitUrl: string;
  /** The registry and git server at the address pods reach (the bed's pod gateway): what the controller and builds use. */
  readonly pod: { readonly registry: string; readonly gitUrl: string };
  /** Traefik's loopback URL; requests name the route's host in the `Host` header. */
  readonly ingressUrl: string;
  readonly ingressClass: string;
  /**
   * Annotations that send a namespace's pods to the real node (kwok's node runs no containers); its
   * DaemonSets too, by the bed's placement policy (daemonset-placement.ts).
   */
  readonly namespaceAnnotations: Record<string, string>;
  /** Registries the node's containerd resolves to the bed's registry (public ones, and the example's). */
  readonly mirrored: readonly string[];
  /** BuildKit's config for build Jobs: docker.io mirrored to the bed's registry, which is plain HTTP. */
  readonly buildkitdToml: string;
  /** diploid's own image in the bed's registry, for `diploid init --image`. */
  readonly controllerImage: string;
  /** Seconds the bed took to start (0 when reused). */
  readonly upSeconds: number;
}

const log: Log = (message) => process.stderr.write(`[bed] ${message}\n`);

/**
 * Minutes each part took in a cold build measured end to end on this project's 2-core machine under
 * heavy load (testbed/README.md: 63 minutes in all), an upper bound a newcomer can trust.
 */
const coldMinutes: ReadonlyArray<readonly [RegExp, number, string]> = [
  [/^(kube-|kubectl|kubelet)/, 22, 'Kubernetes'],
  [/^etcd$/, 1.2, 'etcd'],
  [/^kwok$/, 3.2, 'kwok'],
  [/^(containerd|ctr)/, 3.2, 'containerd'],
  [/^coredns$/, 3.3, 'CoreDNS'],
  [/^crictl$/, 1.5, 'crictl'],
  [/^crane$/, 0.2, 'crane'],
  [/^traefik$/, 15.4, 'Traefik'],
  [/^(buildkitd|buildctl)$/, 10.4, 'BuildKit'],
];

function announceBuild(): void {
  const missing = missingBinaries();
  const images = !imagesBuilt();
  if (missing.length === 0 && !images) return;
  const parts = new Map<string, number>();
  for (const name of missing) {
    const found = coldMinutes.find(([pattern]) => pattern.test(name));
    if (found !== undefined) parts.set(found[2], found[1]);
  }
  if (images) parts.set('image layers', 1);
  const total = Math.ceil([...parts.values()].reduce((sum, minutes) => sum + minutes, 0));
  log(`first run: building ${[...parts.keys()].join(', ')} from source (Go module proxy), cached under ~/.cache/diploid-testbed`);
  log(`estimate: up to about ${total} minutes on 2 busy cores (measured per part; 35-55 minutes on idle ones, less on a bigger machine); later runs skip this`);
}

async function healthy(stateDir: string): Promise<boolean> {
  const found = await status(stateDir);
  return found.state?.complete === true && found.parts.length > 0 && found.parts.every((part) => part.ok);
}

/**
 * The bed to use: the one in DIPLOID_TESTBED_DIR (or .testbed) when healthy; else the healthy bed
 * holding this machine's real node (one real node per machine: a second bed would get none).
 */
async function chooseStateDir(): Promise<string> {
  const wanted = defaultStateDir();
  if (await healthy(wanted)) return wanted;
  const lock = '/run/diploid-testbed-real-node.json';
  if (process.env['DIPLOID_TESTBED_DIR'] === undefined && existsSync(lock)) {
    const holder = (JSON.parse(readFileSync(lock, 'utf8')) as { stateDir?: string }).stateDir;
    if (holder !== undefined && holder !== wanted && (await healthy(holder))) {
      log(`reusing the bed in ${holder}, which holds this machine's real node (set DIPLOID_TESTBED_DIR to choose)`);
      return holder;
    }
  }
  return wanted;
}

function describe(state: TestbedState, alreadyUp: boolean, image: string): LocalBed {
  const { kubernetes, registry, git, ingress, gateway } = state;
  if (kubernetes === undefined || registry === undefined || git === undefined || ingress === undefined || gateway === undefined) {
    throw new Error(`the bed in ${state.stateDir} lacks a part (${Object.entries(state.problems).map(([part, why]) => `${part}: ${why}`).join('; ') || 'incomplete'})`);
  }
  return {
    stateDir: state.stateDir,
    alreadyUp,
    kubeconfig: kubernetes.kubeconfig,
    registry: registry.host,
    gitUrl: git.url,
    pod: { registry: gateway.registry, gitUrl: gateway.gitUrl },
    ingressUrl: ingress.url,
    ingressClass: ingress.className,
    namespaceAnnotations: { ...realNodeNamespaceAnnotations },
    mirrored: [...mirroredRegistries],
    buildkitdToml: `[worker.containerd]\n  enabled = false\n[registry."docker.io"]\n  mirrors = ["${gateway.registry}"]\n[registry."${gateway.registry}"]\n  http = true\n`,
    controllerImage: image,
    upSeconds: alreadyUp ? 0 : Math.round((Date.now() - Date.parse(state.startedAt)) / 1000),
  };
}

async function main(command: string | undefined): Promise<number> {
  if (command === 'down') {
    await down({ stateDir: defaultStateDir(), log });
    return 0;
  }
  if (command !== 'up') {
    process.stderr.write('usage: node --import tsx testbed/local.ts up|down\n');
    return 2;
  }
  const stateDir = await chooseStateDir();
  if (!(await healthy(stateDir))) {
    // Debian packages the bed runs (registry, runc, CNI plugins, iptables...): installed when missing.
    const deps = spawnSync('bash', [join(repoRoot, 'scripts', 'system-deps')], { stdio: ['ignore', 2, 2] });
    if (deps.status !== 0) throw new Error(`scripts/system-deps failed (exit code ${deps.status}): the bed needs Debian's packages (see above)`);
    announceBuild();
  }
  const { state, alreadyUp } = await up({ stateDir, log });
  log(alreadyUp ? `reusing the running bed in ${stateDir}` : `bed up in ${stateDir}`);
  const problems = Object.entries(state.problems);
  if (problems.length > 0) {
    for (const [part, problem] of problems) log(`${part} is NOT available: ${problem}`);
    throw new Error(`the bed in ${stateDir} started without ${problems.map(([part]) => part).join(', ')} (see above); 'scripts/testbed down' stops the rest`);
  }
  // diploid's own image, built from this checkout's Dockerfile on the bed once per content.
  const { image } = await ensureControllerImage({ registry: state.registry?.host ?? '', log });
  process.stdout.write(`${JSON.stringify(describe(state, alreadyUp, image))}\n`);
  return 0;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`ERROR: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
