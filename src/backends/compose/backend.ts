import type { Backend, BackendOutput, OutputFormat } from '../backend.js';
import { serialize } from '../serialize.js';
import type { ResolvedApp } from '../../resolve/model.js';
import type { Inputs } from './context.js';
import { compileCompose } from './index.js';

/**
 * Docker Compose: one compose file per environment, everything inline (config files are
 * compose configs with their content), so `docker compose up` needs nothing diploid did not
 * write but the repos to build from and the secrets.
 */
export const composeBackend: Backend = {
  name: 'compose',
  addressPorts: 'container',
  render(app: ResolvedApp, format: OutputFormat): BackendOutput {
    const { file, inputs, warnings } = compileCompose(app);
    const body = serialize(file, format);
    const stream = format === 'yaml' ? `${header(app, inputs)}${body}` : body;
    return { stream, files: [{ path: format === 'yaml' ? 'compose.yaml' : 'compose.json', content: stream }], warnings };
  },
};

/** A comment that tells the reader what to provide; YAML only, JSON has no comments. */
function header(app: ResolvedApp, inputs: Inputs): string {
  const lines = [`Rendered by diploid: project ${app.project}, environment ${app.environment.name}. Start with: docker compose up -d --build`];
  if (inputs.repos.size > 0) {
    lines.push('Build contexts: each repo checkout, from a variable or beside this folder:');
    for (const [variable, fallback] of [...inputs.repos].sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${variable} (default ${fallback})`);
  }
  if (inputs.secretVariables.size > 0) {
    lines.push('Secrets read from the environment (the shell, or an env file given with --env-file):');
    for (const [variable, source] of [...inputs.secretVariables].sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${variable} = ${describe(source)}`);
  }
  if (inputs.secretFiles.size > 0) {
    lines.push('Secrets read from files under DIPLOID_SECRETS_DIR (default ./secrets beside this file):');
    for (const path of [...new Set(inputs.secretFiles.values())].sort()) lines.push(`  ${path} = ${describe(path)}`);
  }
  return lines.map((line) => `# ${line}\n`).join('');
}

function describe(source: string): string {
  const slash = source.indexOf('/');
  return `key "${source.slice(slash + 1)}" of secret "${source.slice(0, slash)}"`;
}
