/**
 * How the deploy history's images are kept in the status ConfigMap. Each entry stores only the
 * images that differ from the next newer entry's (the newest: from the status' own `images`), so
 * a push that changes one service adds one image to the status, not every service's again: with
 * every image in each of the 10 entries, the status of 1500 services passed a ConfigMap's 1 MiB
 * and the controller could no longer record Ready. Past a budget, older entries keep no images
 * at all (a rollback renders their commits again, which gives the same images), so even ten
 * deploys that each change every image leave the status linear in the number of services.
 * Pure: the status' writer and reader call these.
 */
import type { DeployRecord } from './history.js';

/** Characters of image changes the entries after the newest may take in all; the newest always keeps its own. */
export const HISTORY_IMAGES_BUDGET = 256 * 1024;

/** A history entry as the status ConfigMap holds it. */
export interface StoredDeployRecord extends Omit<DeployRecord, 'images'> {
  /** Every service's image: how entries were written before the changes below (still read). */
  readonly images?: Readonly<Record<string, string>>;
  /**
   * The images that differ from the next newer entry's (for the newest, the status' `images`):
   * the image, or null for a service that newer entry has and this one did not deploy. Absent
   * with `images` absent too: the entry keeps no images (past the budget).
   */
  readonly imageChanges?: Readonly<Record<string, string | null>>;
}

/** The history as the ConfigMap stores it: image changes from newer to older, within `budget`. Pure. */
export function compactHistory(current: Readonly<Record<string, string>> | undefined, history: readonly DeployRecord[], budget = HISTORY_IMAGES_BUDGET): StoredDeployRecord[] {
  let newer: Readonly<Record<string, string>> | undefined = current ?? {};
  let spent = 0;
  return history.map((record, index) => {
    const { images, ...rest } = record;
    if (images === undefined || newer === undefined) {
      // Without this entry's images, the older entries' changes would have nothing to apply to.
      newer = undefined;
      return rest;
    }
    const imageChanges = changes(newer, images);
    const size = index === 0 ? 0 : JSON.stringify(imageChanges).length;
    if (spent + size > budget) {
      newer = undefined;
      return rest;
    }
    spent += size;
    newer = images;
    return { ...rest, imageChanges };
  });
}

/** The history as the rest of diploid sees it, every kept entry with all its images; reads both formats. Pure. */
export function expandHistory(current: unknown, stored: readonly StoredDeployRecord[]): DeployRecord[] {
  let newer: Readonly<Record<string, string>> | undefined = current === undefined ? {} : isImageMap(current) ? current : undefined;
  return stored.map((entry) => {
    const { images, imageChanges, ...rest } = entry;
    if (isImageMap(images)) {
      newer = images;
      return { ...rest, images };
    }
    if (newer === undefined || !isChangeMap(imageChanges)) {
      newer = undefined;
      return rest;
    }
    const expanded = applyChanges(newer, imageChanges);
    newer = expanded;
    return { ...rest, images: expanded };
  });
}

/** What turns `from` into `to`: the images that differ, null where `to` has no such service. */
function changes(from: Readonly<Record<string, string>>, to: Readonly<Record<string, string>>): Record<string, string | null> {
  const result = new Map<string, string | null>();
  for (const [service, image] of Object.entries(to)) if (!Object.hasOwn(from, service) || from[service] !== image) result.set(service, image);
  for (const service of Object.keys(from)) if (!Object.hasOwn(to, service)) result.set(service, null);
  return Object.fromEntries(result);
}

// Through a Map: a service named `__proto__` in an edited status stays a plain key.
function applyChanges(from: Readonly<Record<string, string>>, change: Readonly<Record<string, string | null>>): Record<string, string> {
  const result = new Map(Object.entries(from));
  for (const [service, image] of Object.entries(change)) {
    if (image === null) result.delete(service);
    else result.set(service, image);
  }
  return Object.fromEntries(result);
}

// The status is read from a ConfigMap anyone with access may have edited: take only well-formed maps.
function isImageMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string');
}

function isChangeMap(value: unknown): value is Record<string, string | null> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string' || item === null);
}
