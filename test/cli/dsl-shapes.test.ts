import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { isPreRolloutTask, splitPreRollout, type KubeObject } from '../../src/backends/kubernetes/index.js';
import { MINIMAL_CONFIG, runCli, writeOpsRepo } from '../support/ops-repo.js';

const service = (body: string) => `import { defineService, ref } from 'diploid';\nexport default defineService(${body});\n`;

async function render(files: Record<string, string>, backend = 'kubernetes'): Promise<{ code: number; stderr: string; stdout: string }> {
  const dir = writeOpsRepo({ '.diploid.conf.js': MINIMAL_CONFIG, ...files });
  return runCli(['render', '.', '--env', 'production', '--backend', backend], dir);
}

describe('shapes: what is refused, exactly', () => {
  it('refuses a pod label the Service selects by', async () => {
    const run = await render({ 'services/api.js': service("{ name: 'api', image: 'api', port: 8080, pod: { labels: { 'app.kubernetes.io/name': 'other' } } }") });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/api.js:2 services.api.pod.labels["app.kubernetes.io/name"]: is set by diploid (the Service selects pods by it); choose another key\n');
  });

  it('refuses an external Service named like the service itself', async () => {
    const run = await render({ 'services/web.js': service("{ name: 'web', image: 'web', port: 8080, expose: { type: 'LoadBalancer', name: 'web' } }") });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/web.js:2 services.web.expose.name: is the service\'s own name, which its in-cluster Service has; choose another (e.g. "web-external")\n');
  });

  it('refuses two containers of one pod with the same name', async () => {
    const run = await render({ 'services/api.js': service("{ name: 'api', image: 'api', containerName: 'app', sidecars: { app: { image: 'proxy' } } }") });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/api.js:2 services.api.sidecars.app: a container named "app" is already the main container; containers of one pod need different names\n');
  });

  it('refuses a task without a command, which would run the app itself', async () => {
    const run = await render({ 'services/api.js': service("{ name: 'api', image: 'api', tasks: { migrate: { env: { A: 'b' } } } }") });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/api.js:2 services.api.tasks.migrate: needs a command (or an image of its own): it would run the app itself\n');
  });

  it('refuses a schedule that is not cron syntax', async () => {
    const run = await render({ 'services/api.js': service("{ name: 'api', image: 'api', schedules: { nightly: { schedule: 'every night', command: 'true' } } }") });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/api.js:2 services.api.schedules.nightly.schedule: expected a cron schedule such as "0 3 * * *" or "@daily", got "every night"\n');
  });

  it('refuses an existing namespace without its name', async () => {
    const dir = writeOpsRepo({
      '.diploid.conf.js': "import { defineConfig } from 'diploid';\nexport default defineConfig({ project: 'shop', environments: { production: { existingNamespace: true } } });\n",
      'services/api.js': service("{ name: 'api', image: 'api' }"),
    });
    const run = await runCli(['render', '.', '--env', 'production'], dir);
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  .diploid.conf.js:2 environments.production.existingNamespace: needs namespace: the name of the existing namespace to deploy into\n');
  });
});

describe('shapes: tasks run before the rollout', () => {
  it('marks task Jobs as pre-rollout and splits them from the rest for the deploy path', async () => {
    const run = await render({
      'services/api.js': service("{ name: 'api', image: 'api', port: 8080, tasks: { migrate: { command: ['migrate'] } }, schedules: { report: { schedule: '@daily', command: ['report'] } } }"),
    });
    expect(run.code).toBe(0);
    const objects = run.stdout.split(/^---$/m).map((text) => parse(text) as KubeObject);
    const job = objects.find((object) => object.kind === 'Job') as KubeObject;
    expect(job.metadata.name).toMatch(/^api-migrate-[0-9a-f]{8}$/);
    expect(isPreRolloutTask(job)).toBe(true);
    expect(objects.filter(isPreRolloutTask)).toEqual([job]);
    const split = splitPreRollout(objects);
    expect(split.tasks).toEqual([job]);
    expect(split.before.map((object) => object.kind)).toEqual(['Namespace']);
    expect(split.rest.map((object) => object.kind)).toEqual(['Service', 'Deployment', 'CronJob']);
  });

  it('names a new Job when what the task runs changes, and the same Job when nothing does', async () => {
    const jobName = async (image: string) => {
      const run = await render({ 'services/api.js': service(`{ name: 'api', image: '${image}', tasks: { migrate: { command: ['migrate'] } } }`) });
      return run.stdout.match(/name: (api-migrate-[0-9a-f]{8})/)?.[1];
    };
    const first = await jobName('api:1');
    expect(first).toBeDefined();
    expect(await jobName('api:1')).toBe(first);
    expect(await jobName('api:2')).not.toBe(first);
  });
});

describe('compose: addresses point where something listens', () => {
  it('gives the container port in compose and the Service port in Kubernetes', async () => {
    const files = {
      'services/api.js': service("{ name: 'api', image: 'api', ports: { http: { port: 8080, servicePort: 80 } } }"),
      'services/web.js': service("{ name: 'web', image: 'web', env: { API: ref('api').url, API_ADDR: ref('api').address } }"),
    };
    const compose = await render(files, 'compose');
    expect(compose.code).toBe(0);
    const file = parse(compose.stdout) as { services: Record<string, { environment?: Record<string, string> }> };
    expect(file.services.web?.environment).toEqual({ API: 'http://api:8080', API_ADDR: 'api:8080' });
    expect(compose.stderr).not.toContain('ports.http');
    const kubernetes = await render(files);
    expect(kubernetes.stdout).toContain('value: http://api:80\n');
  });
});
