import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

interface ExampleGroup {
  name: string;
  examples: Record<string, any>[];
}

/** Real GitHub payloads, from `@octokit/webhooks-examples`. */
export function githubExamples(event: string): Record<string, any>[] {
  const groups = require('@octokit/webhooks-examples') as ExampleGroup[];
  const group = groups.find((g) => g.name === event);
  if (!group) throw new Error(`no examples for ${event}`);
  return group.examples;
}

/** GitLab's documented payloads, kept under test/fixtures/hosts/gitlab (see its README). */
export function gitlabFixture(name: string): Buffer {
  return readFileSync(fileURLToPath(new URL(`../../fixtures/hosts/gitlab/${name}.json`, import.meta.url)));
}
