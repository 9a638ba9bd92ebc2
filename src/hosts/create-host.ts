import type { GitHostConfig } from '../model/config.js';
import type { SecretSource } from '../model/primitives.js';
import { GithubHost, githubApiUrl } from './github/client.js';
import { GitlabHost, gitlabBaseUrl } from './gitlab/client.js';
import { readSecret, type SecretReader } from './token.js';
import type { GitHost } from './types.js';

/** `env GITLAB_TOKEN` or `file /run/secrets/token`: how errors name a token without showing it. */
export function describeSource(source: SecretSource): string {
  return 'env' in source ? `env ${source.env}` : `file ${source.file}`;
}

/** Reads the host's token from where the config points and returns a client for its API. */
export async function createGitHost(name: string, config: GitHostConfig, reader?: SecretReader): Promise<GitHost> {
  const token = await readSecret(config.token, `token of git host "${name}"`, reader);
  const tokenSource = describeSource(config.token);
  if (config.provider === 'github') return new GithubHost({ name, apiUrl: githubApiUrl(config), token, tokenSource });
  return new GitlabHost({ name, baseUrl: gitlabBaseUrl(config), token, tokenSource });
}
