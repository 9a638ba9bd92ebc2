import type { CommitStatus, DeployPhase } from './types.js';

/** GitHub's commit status states (`POST /repos/{owner}/{repo}/statuses/{sha}`). */
export type GithubStatusState = 'pending' | 'success' | 'failure' | 'error';
/** GitLab's commit status states (`POST /projects/:id/statuses/:sha`) diploid uses. */
export type GitlabStatusState = 'pending' | 'running' | 'success' | 'failed';

// GitHub has no "running": a build in progress stays pending, the description tells it apart.
const githubStates: Record<DeployPhase, GithubStatusState> = {
  pending: 'pending',
  building: 'pending',
  deployed: 'success',
  failed: 'failure',
};

const gitlabStates: Record<DeployPhase, GitlabStatusState> = {
  pending: 'pending',
  building: 'running',
  deployed: 'success',
  failed: 'failed',
};

const defaultDescriptions: Record<DeployPhase, (environment: string) => string> = {
  pending: (environment) => `Waiting to deploy to ${environment}`,
  building: (environment) => `Building for ${environment}`,
  deployed: (environment) => `Deployed to ${environment}`,
  failed: (environment) => `Deploy to ${environment} failed`,
};

/** GitHub cuts descriptions at 140 characters; cut ourselves so the request is never refused. */
const MAX_DESCRIPTION = 140;

/** Name of the status (GitHub `context`, GitLab `name`): one per environment, so they don't overwrite each other. */
export function statusContext(environment: string): string {
  return `diploid/${environment}`;
}

export function statusDescription(status: CommitStatus): string {
  const text = status.description ?? defaultDescriptions[status.phase](status.environment);
  return text.length <= MAX_DESCRIPTION ? text : `${text.slice(0, MAX_DESCRIPTION - 1)}…`;
}

export function githubStatusState(phase: DeployPhase): GithubStatusState {
  return githubStates[phase];
}

export function gitlabStatusState(phase: DeployPhase): GitlabStatusState {
  return gitlabStates[phase];
}
