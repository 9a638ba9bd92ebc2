import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';

/** Kubernetes allows 63 characters in a namespace name. */
const MAX_NAMESPACE = 63;
const HASH_LENGTH = 6;

/** Names of a preview environment: its environment name and its namespace. */
export interface PreviewName {
  readonly name: string;
  readonly namespace: string;
}

export interface PreviewNameOptions {
  readonly project: string;
  /** Environment names already in use: the config's environments. A preview never takes one. */
  readonly reserved: readonly string[];
  /** Previews that exist, by name, with the branch each belongs to. */
  readonly existing?: ReadonlyMap<string, string>;
}

/**
 * The preview of a branch: `feature/Cart-v2` -> `feature-cart-v2`, namespace `<project>-feature-cart-v2`.
 * A name that is too long, taken by another branch or by an environment gets a short hash of the
 * branch as suffix, so it stays unique and stable for that branch.
 */
export function previewName(branch: string, options: PreviewNameOptions): PreviewName {
  const slug = branch
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug === '') throw new UserError(`branch "${branch}" cannot become a preview namespace: it has no letters or digits; rename the branch or add a branch rule that ignores it`);
  const room = MAX_NAMESPACE - options.project.length - 1;
  if (room < HASH_LENGTH + 2) throw new UserError(`project name "${options.project}" is too long to leave room for preview namespaces (<project>-<branch> must fit in ${MAX_NAMESPACE} characters)`);
  const owner = options.existing?.get(slug);
  const collides = options.reserved.includes(slug) || (owner !== undefined && owner !== branch);
  const name = slug.length <= room && !collides ? slug : `${slug.slice(0, room - HASH_LENGTH - 1).replace(/-+$/, '')}-${shortHash(branch)}`;
  return { name, namespace: `${options.project}-${name}` };
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);
}
