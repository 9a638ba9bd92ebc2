/** Reading diploid's inputs from git: mirrors, commits, trees, and planning a push. */
export { git, gitMaybe, GitError } from './git.js';
export { RepoCache, CachedRepo, ZERO_SHA } from './repo-cache.js';
export { locateRepo, locateOps, type RepoLocations } from './locate.js';
export { Workspace, type StateSpec, type WorkspaceOptions } from './workspace.js';
export { planPush, type PlanPushOptions, type PushRequest } from './plan-push.js';
