import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps V8's young generation at its starting size instead of letting it grow to 16 MiB per
 * semi-space when a burst of allocation comes (loading 1000 service files, compiling 4000
 * objects). Short-lived objects are then collected more often, for the same CPU time as measured
 * by `npm run bench`, and a command's resident memory stays 30 MiB lower: `render` of 1000
 * services 108 instead of 137 MiB. V8 reads this flag whenever it would grow the space, so
 * setting it at start-up takes effect. Not for the controller: a push at 1000 services makes more
 * short-lived garbage than a small young generation holds, and, promoted early, it grew the old
 * generation instead (305 instead of 258 MiB after 20 pushes in `npm run bench -- --only push`;
 * measured again after a push made far less garbage, with 1 MiB semi-spaces: 226 rising to 371
 * between full collections, against 182-206 MiB with V8's default).
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * What the controller does for its memory between pushes. At 1000 services a push leaves about
 * 40 MiB live, but with V8's defaults the old generation kept each push's promoted garbage until
 * its limit (151 rising to 160 MiB over 12 pushes in `npm run bench -- --only push`). The loop
 * calls `collect` when it runs out of work: one full collection then, after the status is
 * written, off a push's path. (The young generation's size is set where Node starts, in
 * `CONTROLLER_RUNTIME_ENV`: V8 reads it only then.)
 */
export function controllerHeap(): { collect: () => void } {
  // `gc` without starting node with --expose-gc: the flag gives it to contexts made after it.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return { collect: () => gc() };
}
