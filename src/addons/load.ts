/**
 * Reads an ops repo's add-ons: the manifests of its add-ons folder, and remote manifests, each
 * checked against the sha256 the config pins (and cached by it, so a rebuild does not depend on
 * the URL still answering once the content was seen).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ConfigSpec } from '../model/config.js';
import { orderAddons, parseManifest, type OrderedAddons } from './order.js';

/** Folder of add-on manifests unless `addons.dir` says otherwise. */
export const DEFAULT_ADDONS_DIR = 'addons';

/** A remote manifest that could not be fetched: retried later. */
export class AddonFetchError extends Error {
  override readonly name = 'AddonFetchError';
}

/** The files of the ops repo at one state, read-only (a git commit, or a folder): what add-ons and secrets are read from. */
export interface FileTree {
  /** Paths matching the globs, sorted. */
  glob(patterns: readonly string[]): Promise<string[]>;
  read(path: string): Promise<string | undefined>;
}

/** Every add-on of the ops repo, in apply order. */
export async function loadAddons(tree: FileTree, config: Pick<ConfigSpec, 'addons'>, cacheDir: string): Promise<OrderedAddons> {
  const dir = config.addons?.dir ?? DEFAULT_ADDONS_DIR;
  const objects = [];
  for (const source of await tree.glob([`${dir}/**/*.yaml`, `${dir}/**/*.yml`])) objects.push(...parseManifest((await tree.read(source)) ?? '', source));
  for (const [index, remote] of (config.addons?.remote ?? []).entries()) {
    const text = await fetchPinned(remote.url, remote.sha256, join(cacheDir, 'addons'), `addons.remote[${index}]`);
    objects.push(...parseManifest(text, remote.url));
  }
  return orderAddons(objects);
}

/** The content at `url` whose sha256 is `sha256`, from the cache or fetched; any other content is refused. */
export async function fetchPinned(url: string, sha256: string, cacheDir: string, path: string): Promise<string> {
  const cached = join(cacheDir, `${sha256}.yaml`);
  if (existsSync(cached)) {
    const content = readFileSync(cached);
    if (digest(content) === sha256) return content.toString('utf8');
  }
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    throw new AddonFetchError(`cannot fetch add-on ${url}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!response.ok) throw new AddonFetchError(`cannot fetch add-on ${url}: HTTP ${response.status}`);
  const content = Buffer.from(await response.arrayBuffer());
  const actual = digest(content);
  if (actual !== sha256) {
    throw new ConfigError([{ file: '.diploid.conf.js', path: `${path}.sha256`, message: `${url} has sha256 ${actual}, not the pinned ${sha256}: the content changed; check it and pin the new hash` }]);
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${cached}.tmp`, content);
  renameSync(`${cached}.tmp`, cached);
  return content.toString('utf8');
}

function digest(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
