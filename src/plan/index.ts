/** The planner: pure functions from a push and the states it touches to a plan. */
export { checkBranchRules, matchBranch, feedBranch, parsePattern, matchesPattern } from './branch-rules.js';
export { previewName } from './preview-name.js';
export { contentTag, dockerfilePath } from './content-tag.js';
export { planTargets, expiredPreviews, durationMs } from './targets.js';
export { planEnvironment, type EnvironmentStates } from './plan-environment.js';
export { resolveState, fingerprint, withPreviewEnvironment } from './resolve-state.js';
export { previewApp } from './preview-app.js';
export { formatPlan } from './format.js';
export * from './types.js';
