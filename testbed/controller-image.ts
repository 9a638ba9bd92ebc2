/**
 * diploid's own image on the bed: built from the project's Dockerfile with BuildKit on this
 * machine (controller-image.sh) and pushed to the bed's registry, once per content. The returned
 * reference is what `diploid init --image` takes.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { binDir, cacheDir, repoRoot, testbedDir } from './config.js';

/** How to build and where to push. */
export interface ControllerImageOptions {
  /** The bed's registry, `host:port` (`requireRegistry().host`, `$DIPLOID_TESTBED_REGISTRY`). */
  readonly registry: string;
  /** Progress lines (a cold build takes a few minutes: Debian packages, `npm ci`, `tsc`). */
  readonly log: (message: string) => void;
  /** Repository in the registry; `diploid/diploid` by default. */
  readonly repository?: string;
  /** The project folder holding the Dockerfile; this checkout by default. */
  readonly context?: string;
}

/** The image `diploid init --image` takes, and whether this call built it. */
export interface ControllerImage {
  /** `<registry>/<repository>:<content tag>`, e.g. `127.0.0.1:5000/diploid/diploid:c-0123456789abcdef`. */
  readonly image: string;
  /** False when the registry already had the tag (nothing was built). */
  readonly built: boolean;
  /** Wall time of this call. */
  readonly seconds: number;
}

/**
 * Makes sure the bed's registry holds diploid's image for the project's current content and
 * returns its reference. The tag is a hash of what the build reads (the files `.dockerignore`
 * lets in, the Dockerfile, and the base image's recipe), so the same sources are built once; a
 * tag the registry has is never rebuilt. Builds run one at a time on the machine (a lock file in
 * the cache), and the one that waited finds the tag pushed and returns.
 */
export async function ensureControllerImage(options: ControllerImageOptions): Promise<ControllerImage> {
  const started = Date.now();
  const context = options.context ?? repoRoot;
  const repository = options.repository ?? 'diploid/diploid';
  const image = `${options.registry}/${repository}:c-${contentTag(context)}`;
  const seconds = () => (Date.now() - started) / 1000;
  if (await registryHas(options.registry, repository, image.slice(image.lastIndexOf(':') + 1))) {
    options.log(`diploid's image ${image} is in the registry`);
    return { image, built: false, seconds: seconds() };
  }
  options.log(`building diploid's image ${image} with BuildKit (cold: a few minutes; warm: the changed layers only)`);
  const cache = cacheDir();
  mkdirSync(cache, { recursive: true });
  await runLogged('flock', ['-w', '1800', join(cache, 'controller-image.lock'), 'bash', join(testbedDir, 'controller-image.sh'), context, image, options.registry], {
    BIN_DIR: binDir(),
    NODE_BOOKWORM_DIR: join(cache, 'node-bookworm'),
    BUILDKIT_ROOT: join(cache, 'buildkitd-root'),
  }, options.log);
  if (!(await registryHas(options.registry, repository, image.slice(image.lastIndexOf(':') + 1)))) {
    throw new Error(`the build of ${image} finished but the registry ${options.registry} does not have it`);
  }
  options.log(`diploid's image ${image} ready in ${seconds().toFixed(0)}s`);
  return { image, built: true, seconds: seconds() };
}

/** What the build reads: the Dockerfile and .dockerignore, plus .dockerignore's allow list (a unit test keeps them equal). */
export const buildInputs = {
  files: ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/bundle.mjs'],
  dirs: ['src', 'bin'],
} as const;
const contextFiles = buildInputs.files;
const contextDirs = buildInputs.dirs;

/** 16 hex digits of SHA-256 over every file the build reads, by path, plus the base image's recipe. */
export function contentTag(context: string): string {
  const hash = createHash('sha256');
  const add = (path: string) => {
    hash.update(`${relative(context, path)}\0`);
    hash.update(readFileSync(path));
    hash.update('\0');
  };
  for (const file of contextFiles) add(join(context, file));
  for (const dir of contextDirs) for (const file of filesUnder(join(context, dir))) add(file);
  // The base image's stand-in: a new recipe (or another node on this machine) is another image.
  hash.update(readFileSync(join(testbedDir, 'node-bookworm.sh')));
  hash.update(process.version);
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) out.push(...filesUnder(path));
    else if (stat.isFile()) out.push(path);
  }
  return out;
}

/** `HEAD /v2/<repository>/manifests/<tag>` on the bed's plain-HTTP registry. */
async function registryHas(registry: string, repository: string, tag: string): Promise<boolean> {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json' },
    signal: AbortSignal.timeout(15_000),
  });
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw new Error(`registry ${registry} answered ${response.status} for ${repository}:${tag}`);
}

/** Runs a command, handing each line of its output to `log`; rejects with the last lines on failure. */
function runLogged(file: string, args: string[], env: Record<string, string>, log: (message: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail: string[] = [];
    let partial = '';
    const take = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        log(line);
        tail = [...tail, line].slice(-30);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (error) => reject(new Error(`cannot run ${file}: ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      if (partial !== '') log(partial);
      if (code === 0) resolve();
      else reject(new Error(`building diploid's image failed (exit code ${code}):\n${[...tail, partial].join('\n')}`));
    });
  });
}
