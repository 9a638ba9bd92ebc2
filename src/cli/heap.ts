import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's young generation at its starting size instead of letting it grow to 16 MiB per
 * semi-space when a burst of allocation comes (loading 1000 service files, compiling 4000
 * objects). Short-lived objects are then collected more often, for the same CPU time as measured
 * by `npm run bench`, and the process's resident memory stays 30 MiB lower: `render` of 1000
 * services 106 instead of 136 MiB, the controller 117 instead of 148 MiB once loaded. V8 reads
 * this flag whenever it would grow the space, so setting it at start-up takes effect.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
