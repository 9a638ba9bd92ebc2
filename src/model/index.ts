export { configSchema } from './config.js';
export type { ConfigInput, ConfigSpec, GitHostConfig, RepoConfig, BranchRule, EnvironmentConfig } from './config.js';
export { serviceSchema, servicePatchSchema } from './service.js';
export type { ServiceInput, ServiceSpec, ServicePatch, ServicePatchSpec } from './service.js';
export { defineConfig, defineService, defineFragment } from './define.js';
export { shared, secret, ref } from './values.js';
export type { SharedValue, SecretValue, ServiceRef } from './values.js';
export type { SecretSource } from './primitives.js';
