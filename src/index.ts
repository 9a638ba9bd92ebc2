/**
 * diploid's public API: the typing helpers used in `.diploid.conf.js` and service files, the
 * pure compiler for programmatic use, and the types of both.
 */
export { defineConfig, defineService, defineFragment, shared, secret, ref } from './model/index.js';
export type * from './model/index.js';
export { resolveApp, checkApp } from './resolve/index.js';
export type { ResolvedApp, ResolvedService, AppSources } from './resolve/index.js';
export { compileKubernetes } from './backends/kubernetes/index.js';
export type { KubeObject } from './backends/kubernetes/index.js';
export { loadOpsDir } from './sources/load-dir.js';
export { UserError, ConfigError, InternalError } from './errors.js';
