import type { ConfigInput } from './config.js';
import type { ServiceInput, ServicePatch } from './service.js';

/**
 * The helpers config files import from 'diploid'. They only give editors the types; they
 * return their argument unchanged. This module imports no runtime code, so evaluating a config
 * file stays cheap.
 */

/** Typing helper for `.diploid.conf.js`. */
export function defineConfig<const T extends ConfigInput>(config: T): T {
  return config;
}

/** Typing helper for service files: one service, or a list of them (a monorepo). */
export function defineService<const T extends ServiceInput | readonly ServiceInput[]>(service: T): T {
  return service;
}

/** Typing helper for a reusable partial service. */
export function defineFragment<const T extends ServicePatch>(fragment: T): T {
  return fragment;
}
