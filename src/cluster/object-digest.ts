import { createHash } from 'node:crypto';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { stableStringify } from '../plan/resolve-state.js';

/**
 * SHA-256 of an object's content (keys sorted), hex. Remembered by object: compiled objects of
 * unchanged services keep their identity from push to push (see `compileKubernetes`), so a push
 * serializes and hashes only the objects it changed. Pure.
 */
export function objectDigest(object: KubeObject): string {
  let digest = digests.get(object);
  if (digest === undefined) {
    digest = createHash('sha256').update(stableStringify(object)).digest('hex');
    digests.set(object, digest);
  }
  return digest;
}

const digests = new WeakMap<KubeObject, string>();
