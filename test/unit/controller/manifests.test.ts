import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { toYaml } from '../../../src/backends/serialize.js';
import { CONTROLLER_RUNTIME_ENV, controllerManifests, secretInstructions } from '../../../src/controller/manifests.js';
import { expectGolden } from '../../support/golden.js';
import { GitRoot } from '../../support/git-repos.js';
import { runCli } from '../../support/ops-repo.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/controller');

const options = {
  namespace: 'diploid-system',
  image: 'ghcr.io/diploid/diploid:0.1.0',
  opsUrl: 'https://gitlab.example.com/shop/ops.git',
  secretName: 'diploid',
  secretEnv: ['GITLAB_TOKEN', 'DIPLOID_WEBHOOK_SECRET'],
  project: 'shop',
};

describe('the controller manifests', () => {
  it('match the golden file', () => {
    expectGolden(join(FIXTURES, 'manifests.yaml'), controllerManifests(options).map((object) => toYaml(object)).join('---\n'));
  });

  it('are the same bytes for the same options, whatever the order of the secret names', () => {
    const again = controllerManifests({ ...options, secretEnv: ['DIPLOID_WEBHOOK_SECRET', 'GITLAB_TOKEN', 'GITLAB_TOKEN'] });
    expect(JSON.stringify(again)).toBe(JSON.stringify(controllerManifests(options)));
  });

  it('reference secrets and never hold a value', () => {
    const objects = controllerManifests(options);
    expect(objects.map((object) => object.kind)).not.toContain('Secret');
    const deployment = objects.find((object) => object.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string; valueFrom?: unknown }> }> } } } };
    const env = deployment.spec.template.spec.containers[0]?.env ?? [];
    const settings = new Set(['DIPLOID_CACHE', ...Object.keys(CONTROLLER_RUNTIME_ENV)]);
    expect(env.filter((item) => !settings.has(item.name)).every((item) => item.value === undefined && item.valueFrom !== undefined)).toBe(true);
    expect(env.map((item) => item.name)).toEqual(['DIPLOID_WEBHOOK_SECRET', 'GITLAB_TOKEN', 'DIPLOID_CACHE', 'MALLOC_ARENA_MAX']);
  });

  it("run the controller's Node with the memory settings `npm run bench -- --only push` measures it with", () => {
    const deployment = controllerManifests(options).find((object) => object.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } };
    const env = new Map((deployment.spec.template.spec.containers[0]?.env ?? []).map((item) => [item.name, item.value]));
    // Two malloc arenas, whatever the number of cores and threads; nothing else of Node's changed.
    expect(env.get('MALLOC_ARENA_MAX')).toBe('2');
    expect(env.has('NODE_OPTIONS')).toBe(false);
    expect(Object.fromEntries([...env].filter(([name]) => Object.hasOwn(CONTROLLER_RUNTIME_ENV, name)))).toEqual(CONTROLLER_RUNTIME_ENV);
  });

  it('let the controller watch the workloads it rolls out', () => {
    const rules = controllerManifests(options)
      .filter((object) => object.kind === 'ClusterRole')
      .flatMap((object) => (object as unknown as { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }).rules);
    const workloads = rules.find((rule) => rule.apiGroups.includes('apps'));
    expect(workloads?.resources).toEqual(['daemonsets', 'deployments', 'statefulsets']);
    expect(workloads?.verbs).toEqual(['get', 'list', 'create', 'patch', 'delete', 'watch']);
  });

  it('grant no rights on secrets, RBAC objects or cluster-wide escalation', () => {
    const rules = controllerManifests(options)
      .filter((object) => object.kind === 'ClusterRole' || object.kind === 'Role')
      .flatMap((object) => (object as unknown as { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }).rules);
    const resources = rules.flatMap((rule) => rule.resources);
    expect(resources).not.toContain('secrets');
    expect(resources).not.toContain('*');
    expect(rules.flatMap((rule) => rule.verbs)).not.toContain('*');
    expect(rules.flatMap((rule) => rule.apiGroups)).not.toContain('rbac.authorization.k8s.io');
    const jobs = rules.find((rule) => rule.resources.includes('jobs'));
    expect(jobs).toBeDefined();
    const role = controllerManifests(options).find((object) => object.kind === 'Role');
    expect(role?.metadata.namespace).toBe('diploid-system');
  });

  it('may apply and prune every kind the Kubernetes backend renders, Traefik Middlewares (the cors preset) included', () => {
    const rules = controllerManifests(options)
      .filter((object) => object.kind === 'ClusterRole')
      .flatMap((object) => (object as unknown as { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }).rules);
    const middlewares = rules.find((rule) => rule.apiGroups.includes('traefik.io') && rule.resources.includes('middlewares'));
    expect(middlewares?.verbs).toEqual(['get', 'list', 'create', 'patch', 'delete']);
  });

  it('tell the user how to create the Secret, with placeholders only', () => {
    expect(secretInstructions('diploid-system', 'diploid', ['GITLAB_TOKEN', 'DIPLOID_WEBHOOK_SECRET'])).toBe(
      [
        'kubectl create namespace diploid-system --dry-run=client -o yaml | kubectl apply -f -',
        'kubectl -n diploid-system create secret generic diploid \\',
        '  --from-literal=DIPLOID_WEBHOOK_SECRET="$DIPLOID_WEBHOOK_SECRET" \\',
        '  --from-literal=GITLAB_TOKEN="$GITLAB_TOKEN"',
      ].join('\n'),
    );
  });
});

describe('diploid init --dry-run', () => {
  it('prints the objects (golden) and how to create the Secret, applying and registering nothing', async () => {
    const run = await runCli(['init', join(FIXTURES, 'ops'), '--dry-run', '--ops-url', 'https://gitlab.example.com/shop/ops.git']);
    expect(run.stderr).toContain('kubectl -n shop-diploid create secret generic diploid');
    expect(run.code).toBe(0);
    expectGolden(join(FIXTURES, 'init-dry-run.yaml'), run.stdout);
    expect(run.stdout).toContain('--resync=10m');
    expect(run.stdout).toContain('image: registry.example.com/diploid:0.1.0');
  });

  it('passes --plain-http-registry on to the controller, and takes --image over the config', async () => {
    const run = await runCli(['init', join(FIXTURES, 'ops'), '--dry-run', '--ops-url', 'https://gitlab.example.com/shop/ops.git', '--image', 'registry.internal:5000/diploid:c-1', '--plain-http-registry', 'registry.internal:5000']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('image: registry.internal:5000/diploid:c-1');
    expect(run.stdout).toContain("- '--plain-http-registry=registry.internal:5000'");
    expect(run.stderr).not.toContain('is not published yet');
  });

  it('says how to get an image when it falls back to the unpublished default', async () => {
    const opsDir = join(FIXTURES, 'ops');
    const run = await runCli(['init', opsDir, '--dry-run', '--ops-url', 'https://gitlab.example.com/shop/ops.git', '--image', 'ghcr.io/diploid/diploid:0.1.0']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('ghcr.io/diploid/diploid:0.1.0 is not published yet');
    expect(run.stderr).toContain('diploid init --image registry.example.com/diploid:0.1.0');
  });

  it('lets the controller read the kubeconfig Secret of each cluster, by name only, and says how to create them', async () => {
    const root = new GitRoot();
    try {
      const ops = root.repo('ops', {
        '.diploid.conf.js': `import { defineConfig } from 'diploid';\nexport default defineConfig({ project: 'shop', clusters: { prod: { kubeconfigSecret: 'kc-prod' }, edge: { kubeconfigSecret: 'kc-edge', key: 'value' } }, environments: { staging: {}, production: { cluster: 'prod' }, edge: { cluster: 'edge' } } });\n`,
      });
      const run = await runCli(['init', ops.dir, '--dry-run', '--ops-url', 'https://gitlab.example.com/shop/ops.git']);
      expect(run.code).toBe(0);
      const role = parseAllDocuments(run.stdout).map((document) => document.toJS() as { kind: string; metadata: { name: string; namespace?: string }; rules?: unknown }).find((object) => object.kind === 'Role' && object.metadata.name === 'diploid-clusters-shop');
      expect(role?.metadata.namespace).toBe('diploid-system');
      expect(role?.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['kc-edge', 'kc-prod'], verbs: ['get'] }]);
      expect(run.stdout).toContain('kind: RoleBinding\nmetadata:\n  name: diploid-clusters-shop');
      expect(run.stderr).toContain('kubectl -n diploid-system create secret generic kc-prod --from-file=kubeconfig=prod.kubeconfig');
      expect(run.stderr).toContain('kubectl -n diploid-system create secret generic kc-edge --from-file=value=edge.kubeconfig');
    } finally {
      root.dispose();
    }
  });

  it('refuses an ops remote with credentials in it', async () => {
    const run = await runCli(['init', join(FIXTURES, 'ops'), '--dry-run', '--ops-url', 'https://bot:s3cr3t-value@gitlab.example.com/shop/ops.git']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the ops repo URL has credentials in it');
    expect(run.stdout + run.stderr).not.toContain('s3cr3t-value');
  });
});
