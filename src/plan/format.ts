import { formatProblems } from '../errors.js';
import type { Plan } from './types.js';

/** The plan for people: one block per environment, then the notes. */
export function formatPlan(plan: Plan): string {
  const { push } = plan;
  const range = `${push.before === undefined ? '(new branch)' : short(push.before)}..${push.after === undefined ? '(deleted)' : short(push.after)}`;
  const lines = [`push to ${push.repo} ${push.branch} ${range}`];
  if (plan.environments.length === 0) lines.push('  nothing to do');
  for (const env of plan.environments) {
    const kind = env.preview === undefined ? 'environment' : `${env.preview.mode} preview (base ${env.preview.base})`;
    lines.push(`  ${env.action} ${kind} ${env.name}${env.namespace === '' ? '' : ` in namespace ${env.namespace}`}: ${env.reason}`);
    if (env.preview?.ttl !== undefined && env.action !== 'delete') lines.push(`    expires after ${env.preview.ttl} without a push`);
    for (const build of env.builds) {
      const dockerfile = build.inlineDockerfile ? 'generated Dockerfile' : build.dockerfile;
      lines.push(`    build   ${build.service}: ${build.repo}@${short(build.commit)} context ${build.context}, ${dockerfile} -> ${build.ref}`);
    }
    if (env.deploy.length > 0) lines.push(`    deploy  ${env.deploy.join(', ')}`);
    if (env.remove.length > 0) lines.push(`    remove  ${env.remove.join(', ')}`);
    if (env.reuse.length > 0) lines.push(`    reuse   ${env.reuse.map((item) => item.service).join(', ')} from ${env.reuse[0]?.namespace}`);
    if (env.problems.length > 0) lines.push(...formatProblems(env.problems).split('\n').map((line) => `    ${line}`));
  }
  for (const note of plan.notes) lines.push(`  note: ${note}`);
  return `${lines.join('\n')}\n`;
}

function short(sha: string): string {
  return sha.slice(0, 12);
}
