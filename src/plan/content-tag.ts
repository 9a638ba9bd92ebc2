import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { ResolvedImage } from '../resolve/model.js';
import type { RepoSnapshot } from './types.js';

type BuildImage = Extract<ResolvedImage, { kind: 'build' }>;

/** A content tag, or the paths that are missing from the repo at that commit. */
export type ContentTag = { readonly tag: string } | { readonly missing: readonly string[] };

/**
 * The image tag of a build, from its inputs only: the git object ids of the context and every
 * watched path, the Dockerfile, build args and target. Same inputs, same tag, whatever the
 * commit: a commit that touches nothing the image is built from keeps the image.
 */
export function contentTag(image: BuildImage, repo: RepoSnapshot): ContentTag {
  const missing: string[] = [];
  // The context and the Dockerfile must exist; an extra watched path may not exist yet.
  const objectOf = (path: string, required: boolean) => {
    const id = repo.objects.get(path);
    if (id === undefined && required) missing.push(path);
    return id ?? 'absent';
  };
  const dockerfile = image.inlineDockerfile === undefined ? dockerfilePath(image) : undefined;
  const inputs = {
    paths: [...new Set(image.watch)].sort().map((path) => [path, objectOf(path, path === image.context)]),
    dockerfile: dockerfile === undefined ? { inline: image.inlineDockerfile } : [dockerfile, objectOf(dockerfile, true)],
    args: Object.entries(image.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    target: image.target ?? null,
  };
  if (missing.length > 0) return { missing };
  return { tag: createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 20) };
}

/** The Dockerfile's path in the repo: relative to the build context, as `docker build` reads it. */
export function dockerfilePath(image: Pick<BuildImage, 'context' | 'dockerfile'>): string {
  return posix.normalize(image.context === '.' ? image.dockerfile : `${image.context}/${image.dockerfile}`).replace(/^\.\//, '');
}
