import type { ConfigInput } from './config.js';
import type { ServiceInput, ServicePatch } from './service.js';

/**
 * The helpers config files import from 'diploid'. They only give editors the types; they
 * return their argument unchanged. This module imports no runtime code, so evaluating a config
 * file stays cheap.
 */

/*
 * The parameters are the input types themselves, not a generic `T extends ...`: TypeScript
 * checks an object literal for unknown keys (`imgae`) only against a declared type, so a
 * generic parameter would let every typo through the editor unnoticed.
 */

/** Typing helper for `.diploid.conf.js`. */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}

/** Typing helper for service files: one service, or a list of them (a monorepo). */
export function defineService(service: ServiceInput): ServiceInput;
export function defineService(services: readonly ServiceInput[]): readonly ServiceInput[];
export function defineService(service: ServiceInput | readonly ServiceInput[]): ServiceInput | readonly ServiceInput[] {
  return service;
}

/** Typing helper for a reusable partial service. */
export function defineFragment(fragment: ServicePatch): ServicePatch {
  return fragment;
}
