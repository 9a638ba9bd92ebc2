/**
 * Where the test bed keeps things: the versions it pins, the cache of built binaries and the
 * state folder of one running bed.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the test bed's own sources (this file's folder). */
export const testbedDir = dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const repoRoot = resolve(testbedDir, '..');

/** Pinned versions, read from `testbed/versions.env` (the Go build script sources the same file). */
export interface Versions {
  readonly K8S_VERSION: string;
  readonly K8S_STAGING_VERSION: string;
  readonly ETCD_VERSION: string;
  readonly KWOK_VERSION: string;
  readonly CONTAINERD_VERSION: string;
  readonly CRANE_VERSION: string;
  readonly CRICTL_VERSION: string;
  readonly COREDNS_VERSION: string;
  readonly TRAEFIK_VERSION: string;
}

export function readVersions(): Versions {
  const text = readFileSync(join(testbedDir, 'versions.env'), 'utf8');
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1], match[2]);
  }
  const get = (key: keyof Versions): string => {
    const value = values.get(key);
    if (value === undefined || value === '') throw new Error(`testbed/versions.env has no ${key}`);
    return value;
  };
  return {
    K8S_VERSION: get('K8S_VERSION'),
    K8S_STAGING_VERSION: get('K8S_STAGING_VERSION'),
    ETCD_VERSION: get('ETCD_VERSION'),
    KWOK_VERSION: get('KWOK_VERSION'),
    CONTAINERD_VERSION: get('CONTAINERD_VERSION'),
    CRANE_VERSION: get('CRANE_VERSION'),
    CRICTL_VERSION: get('CRICTL_VERSION'),
    COREDNS_VERSION: get('COREDNS_VERSION'),
    TRAEFIK_VERSION: get('TRAEFIK_VERSION'),
  };
}

/** The cache of built binaries for the pinned Kubernetes version (same rule as build.sh). */
export function cacheDir(): string {
  const root =
    process.env['DIPLOID_TESTBED_CACHE'] ??
    join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'diploid-testbed');
  return join(root, readVersions().K8S_VERSION);
}

export function binDir(): string {
  return join(cacheDir(), 'bin');
}

/** Folder holding the kwok stage files copied out of the kwok module by build.sh. */
export function kwokStagesDir(): string {
  return join(cacheDir(), 'kwok-stages');
}

/** Folder of the image layers build.sh makes for the real node (see images.sh). */
export function imagesDir(): string {
  return join(cacheDir(), 'images');
}

/**
 * The state folder of the bed that `scripts/testbed` manages: pids, logs, certificates,
 * kubeconfig, registry storage and git repositories. Overridable so parallel beds don't collide.
 */
export function defaultStateDir(): string {
  return resolve(process.env['DIPLOID_TESTBED_DIR'] ?? join(repoRoot, '.testbed'));
}

/** Every binary build.sh produces. */
export const binaries = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
  'kubelet',
  'kube-proxy',
  'containerd',
  'containerd-shim-runc-v2',
  'ctr',
  'crane',
  'crictl',
  'coredns',
  'pause',
  'traefik',
] as const;
export type Binary = (typeof binaries)[number];
