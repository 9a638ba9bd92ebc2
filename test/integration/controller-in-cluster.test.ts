/**
 * diploid's controller as a pod on the bed's real node, installed by `diploid init` from diploid's
 * own image (built from the project's Dockerfile with BuildKit, `testbed/controller-image.ts`).
 * A push reaches it the way a git host's would: a signed GitHub delivery (a real payload from
 * `@octokit/webhooks-examples`) sent through the ingress to the controller's Service. It builds
 * the pushed commit with a BuildKit Job, deploys it on the real node and the new page answers
 * through Traefik; commit statuses go to the GitHub stand-in's API. A feature branch gets a
 * single-service preview whose page calls the base environment's `api` by the address diploid
 * gives it.
 *
 * What is real: the API server, kubelet, containerd, kube-proxy, CoreDNS, Traefik, the registry,
 * the git server, BuildKit, the controller's image and process. Stand-ins: the GitHub API (no
 * GitHub here; the stand-in checks every request against GitHub's OpenAPI description) and the
 * look-alike base images (testbed/README.md). Pods reach the bed's loopback services through the
 * bed's pod gateway (10.244.0.1), the address both they and the node use.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { webhookPath } from '../../src/hosts/routes.js';
import { githubSignature } from '../../src/hosts/signature.js';
import { deriveWebhookSecret } from '../../src/hosts/webhook-secret.js';
import { ensureControllerImage } from '../../testbed/controller-image.js';
import { FakeGithubApi } from '../support/fake-github-api.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { runCli } from '../support/ops-repo.js';
import { http } from './real-node-app.js';
import { eventually, freshNamespace, isNotFound, kubeConfig, requireGit, requireIngress, requireKubernetes, requirePodGateway, requireRealNode, requireRegistry, testbed, uniqueSuffix, type TestNamespace } from './testbed.js';

const require = createRequire(import.meta.url);
const suffix = uniqueSuffix();
const project = `incl${suffix}`;
const ZERO = '0'.repeat(40);
const MASTER_SECRET = randomBytes(24).toString('hex');
const HOOKS_HOST = `hooks.${project}.test`;
const paths = { ops: `bed/ops-${suffix}`, app: `bed/app-${suffix}`, api: `bed/api-${suffix}` };

let root: GitRoot;
let ops: TestRepo;
let app: TestRepo;
let api: TestRepo;
let github: FakeGithubApi;
let system: TestNamespace;
let production: TestNamespace;
let controllerImage = '';
const previewNs = `${project}-feature-x`;

// busybox's httpd serves the page; its CGI script asks the service named by API_URL (the address
// diploid gives `ref('api').url`) and answers with what it said.
const DOCKERFILE = 'FROM busybox:1.36\nCOPY www /www\nUSER 65534\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n';
// (The look-alike busybox's `wget -q` crashes; its progress output goes to stderr instead.)
const CALL_API = '#!/bin/sh\necho "Content-Type: text/plain"\necho\ntimeout 5 wget -O - "$API_URL/" 2>/dev/null || echo "cannot reach $API_URL"\n';

/** A push delivery as GitHub sends it: a real example payload, pointed at our repo and commits. */
function pushPayload(repoPath: string, branch: string, before: string, after: string): Buffer {
  const groups = require('@octokit/webhooks-examples') as Array<{ name: string; examples: Array<Record<string, unknown>> }>;
  const example = groups.find((group) => group.name === 'push')?.examples[0];
  if (example === undefined) throw new Error('@octokit/webhooks-examples has no push example');
  const repository = { ...(example['repository'] as Record<string, unknown>), full_name: repoPath, name: repoPath.split('/')[1] };
  return Buffer.from(JSON.stringify({ ...example, ref: `refs/heads/${branch}`, before, after, created: before === ZERO, deleted: after === ZERO, repository }));
}

/** POSTs a signed delivery to the controller's Service through the ingress, as GitHub would. */
async function deliver(repo: 'app' | 'api', branch: string, before: string, after: string): Promise<{ status: number; body: string }> {
  const payload = pushPayload(paths[repo], branch, before, after);
  const headers = {
    host: HOOKS_HOST,
    'content-type': 'application/json',
    'content-length': String(payload.length),
    'x-github-event': 'push',
    'x-github-delivery': randomBytes(16).toString('hex'),
    'x-hub-signature-256': githubSignature(payload, deriveWebhookSecret(MASTER_SECRET, 'bed', paths[repo])),
  };
  return new Promise((resolve, reject) => {
    const req = request(`${requireIngress().url}${webhookPath('bed', repo)}`, { method: 'POST', headers, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET a path of a service through Traefik, by its Ingress's host. */
async function served(service: string, namespace: string, path = '/'): Promise<string> {
  let host: string;
  try {
    host = (await kubeConfig().makeApiClient(k8s.NetworkingV1Api).readNamespacedIngress({ name: service, namespace })).spec?.rules?.[0]?.host ?? '';
  } catch (error) {
    if (isNotFound(error)) return 'no ingress yet';
    throw error;
  }
  const response = await http(`${requireIngress().url}${path}`, { headers: { host } });
  return response.status === 200 ? response.body : `${response.status}`;
}

function statusesOf(repo: 'app' | 'api', sha: string, environment: string): Array<{ state: string; description: string | undefined }> {
  return (github.repos.get(paths[repo])?.statuses ?? []).filter((item) => item.sha === sha && item.context === `diploid/${environment}`).map((item) => ({ state: item.state, description: item.description }));
}

async function ready(environment: string): Promise<boolean> {
  const status = await new ConfigMapStatusStore(kubeConfig(), system.name).get(environment);
  return status !== undefined && condition(status, 'Ready')?.status === 'True';
}

beforeAll(async () => {
  const gateway = requirePodGateway();
  requireRealNode();
  const log = (line: string) => process.stderr.write(`[controller-image] ${line}\n`);
  controllerImage = (await ensureControllerImage({ registry: requireRegistry().host, log })).image;

  system = await freshNamespace('incl-system', { node: 'real' });
  production = await freshNamespace('incl-prod', { node: 'real' });
  // Made beforehand only so that the preview's pods land on the real node.
  await freshNamespace('unused', { node: 'real', name: previewNs });
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  // Build Jobs pull their base images through the registry's mirror and push to it over plain HTTP.
  await core.createNamespacedConfigMap({
    namespace: system.name,
    body: { metadata: { name: 'diploid-buildkitd' }, data: { 'buildkitd.toml': `[worker.containerd]\n  enabled = false\n[registry."docker.io"]\n  mirrors = ["${gateway.registry}"]\n[registry."${gateway.registry}"]\n  http = true\n` } },
  });

  github = new FakeGithubApi();
  for (const path of Object.values(paths)) github.repo(path);
  await github.start(gateway.address);

  root = new GitRoot();
  ops = root.repo('ops', {
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  git: { hosts: { bed: { provider: 'github', url: '${gateway.gitUrl}', apiUrl: '${github.url}', token: { env: 'GITHUB_TOKEN' } } } },
  repos: { app: { path: '${paths.app}' }, api: { path: '${paths.api}' } },
  registry: { url: '${gateway.registry}/${project}' },
  ingress: { domain: '${project}.test', className: 'traefik' },
  environments: { production: { namespace: '${production.name}' } },
  branches: [
    { branch: 'main', environment: 'production' },
    { branch: 'feature/*', preview: { mode: 'single', base: 'production' } },
  ],
  webhooks: { secret: { env: 'DIPLOID_WEBHOOK_SECRET' } },
  controller: { namespace: '${system.name}', resync: '30m' },
});
`,
  });
  app = root.repo('app', {
    'diploid.service.js': `import { defineService, ref } from 'diploid';\nexport default defineService({ name: 'app', build: {}, port: 8080, routes: ['@'], env: { API_URL: ref('api').url } });\n`,
    Dockerfile: DOCKERFILE,
    'www/index.html': '<h1>v1</h1>\n',
    'www/cgi-bin/call': CALL_API,
  });
  chmodSync(join(app.dir, 'www/cgi-bin/call'), 0o755);
  app.commit('the CGI script is executable', {});
  api = root.repo('api', {
    'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'api', build: {}, port: 8080, routes: ['api'] });\n`,
    Dockerfile: DOCKERFILE,
    'www/index.html': 'api v1\n',
  });
  const git = requireGit().url;
  ops.git('push', '-q', `${git}/${paths.ops}.git`, 'main');
  app.git('push', '-q', `${git}/${paths.app}.git`, 'main');
  api.git('push', '-q', `${git}/${paths.api}.git`, 'main');

  // The controller's Secret, as the user creates it (diploid never writes it).
  await core.createNamespacedSecret({
    namespace: system.name,
    body: { metadata: { name: 'diploid' }, stringData: { DIPLOID_WEBHOOK_SECRET: MASTER_SECRET, GITHUB_TOKEN: github.token } },
  });
  const init = await runCli([
    'init', ops.dir,
    '--kubeconfig', requireKubernetes().kubeconfig,
    '--ops-url', `${gateway.gitUrl}/${paths.ops}.git`,
    '--image', controllerImage,
    '--plain-http-registry', gateway.registry,
    '--no-webhooks',
  ]);
  expect(init.stderr, init.stderr).not.toContain('error');
  expect(init.code).toBe(0);
  // What a user does to route `webhooks.publicUrl` to the controller: an Ingress for its Service.
  await kubeConfig().makeApiClient(k8s.NetworkingV1Api).createNamespacedIngress({
    namespace: system.name,
    body: {
      metadata: { name: 'diploid-webhooks' },
      spec: { ingressClassName: requireIngress().className, rules: [{ host: HOOKS_HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'diploid-controller', port: { number: 80 } } } }] } }] },
    },
  });
}, 20 * 60_000);

afterAll(async () => {
  const rbac = kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
  const name = `diploid-controller-${project}`;
  await rbac.deleteClusterRoleBinding({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await rbac.deleteClusterRole({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  await production?.delete();
  await github?.stop();
  root?.dispose();
});


describe('the controller as a pod on the real node, from diploid\'s own image', { timeout: 15 * 60_000 }, () => {
  it('runs from the image init installed, as a real container, non-root with a read-only root', async () => {
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    await eventually('both controller replicas ready', async () => {
      const deployment = await apps.readNamespacedDeployment({ name: 'diploid-controller', namespace: system.name });
      return (deployment.status?.readyReplicas ?? 0) === 2 ? true : undefined;
    }, 5 * 60_000, 1000);
    // The image itself runs diploid as a non-root user (the Deployment asks for one, too).
    const config = JSON.parse(execFileSync(join(testbed().binDir, 'crane'), ['config', '--insecure', controllerImage], { encoding: 'utf8' })) as { config: { User?: string; Entrypoint?: string[] } };
    expect(config.config.User).toBe('10001:10001');
    expect(config.config.Entrypoint).toEqual(['node', '/app/bin/diploid.js']);
    // ...which runs the bundle `npm run build` makes: the image holds it, and the entry imports it.
    const imageFile = (path: string) => execFileSync('sh', ['-c', '"$0" export --insecure "$1" - | tar -xO "$2"', join(testbed().binDir, 'crane'), controllerImage, path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(imageFile('app/bin/diploid.js')).toContain("from '../dist/bundle/main.js'");
    expect(imageFile('app/dist/bundle/main.js')).toContain('registerControllerCommand');
    const pods = await kubeConfig().makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: system.name, labelSelector: 'app.kubernetes.io/name=diploid-controller' });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.spec?.nodeName).toBe(requireRealNode().nodeName);
      const container = pod.status?.containerStatuses?.[0];
      expect(container?.image).toContain(controllerImage.slice(controllerImage.lastIndexOf('/') + 1));
      expect(container?.imageID).toMatch(/sha256:[0-9a-f]{64}$/);
      expect(container?.state?.running).toBeDefined();
      expect(pod.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    }
    // The controller's endpoint answers through the ingress.
    expect(await eventually('the controller through the ingress', async () => ((await http(`${requireIngress().url}/healthz`, { headers: { host: HOOKS_HOST } })).status === 200 ? true : undefined), 60_000, 500)).toBe(true);
    // Its first resync deployed what git holds: both services built and serving.
    expect(await eventually('production Ready after the first resync', async () => ((await ready('production')) ? true : undefined), 8 * 60_000, 2000)).toBe(true);
    expect(await eventually('v1 through the ingress', async () => ((await served('app', production.name)) === '<h1>v1</h1>\n' ? true : undefined), 60_000, 500)).toBe(true);
    expect(await eventually('api v1 through the ingress', async () => ((await served('api', production.name)) === 'api v1\n' ? true : undefined), 60_000, 500)).toBe(true);
  });

  it('a signed push through the ingress builds the commit, deploys it and reports pending -> building -> deployed', async () => {
    const before = app.head();
    const v2 = app.commit('v2', { 'www/index.html': '<h1>v2</h1>\n' });
    app.git('push', '-q', `${requireGit().url}/${paths.app}.git`, 'main');
    const response = await deliver('app', 'main', before, v2);
    expect(response).toEqual({ status: 202, body: '{"status":"queued"}' });
    expect(await eventually('v2 through the ingress', async () => ((await served('app', production.name)) === '<h1>v2</h1>\n' ? true : undefined), 8 * 60_000, 1000)).toBe(true);
    expect(await eventually('the deployed status', async () => (statusesOf('app', v2, 'production').some((item) => item.state === 'success') ? true : undefined), 60_000, 500)).toBe(true);
    expect(statusesOf('app', v2, 'production')).toEqual([
      { state: 'pending', description: 'Deploying to production' },
      { state: 'pending', description: 'Building 1 image for production' },
      { state: 'success', description: 'Deployed to production' },
    ]);
    expect(github.violations).toEqual([]);
  });

  it('a feature branch gets a single-service preview serving its commit and reaching the base environment\'s api', async () => {
    // The production app asks its api through the address diploid gave it.
    expect(await served('app', production.name, '/cgi-bin/call')).toBe('api v1\n');
    app.branch('feature/x');
    const head = app.commit('preview', { 'www/index.html': '<h1>preview</h1>\n' });
    app.git('push', '-q', `${requireGit().url}/${paths.app}.git`, 'feature/x');
    expect((await deliver('app', 'feature/x', ZERO, head)).status).toBe(202);
    expect(await eventually('the preview through the ingress', async () => ((await served('app', previewNs)) === '<h1>preview</h1>\n' ? true : undefined), 8 * 60_000, 1000)).toBe(true);
    // Only the changed service runs in the preview; api is the base environment's, by its usual name.
    const deployments = await kubeConfig().makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace: previewNs });
    expect(deployments.items.map((item) => item.metadata?.name)).toEqual(['app']);
    const reused = await kubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: 'api', namespace: previewNs });
    expect(reused.spec?.type).toBe('ExternalName');
    expect(await eventually('the preview asking the base api', async () => {
      const answer = await served('app', previewNs, '/cgi-bin/call');
      return answer === 'api v1\n' ? answer : undefined;
    }, 60_000, 1000)).toBe('api v1\n');
    expect(await eventually('the preview status', async () => (statusesOf('app', head, 'feature-x').some((item) => item.state === 'success') ? true : undefined), 60_000, 500)).toBe(true);
    // Production is untouched.
    expect(await served('app', production.name)).toBe('<h1>v2</h1>\n');
  });

  it('deleting the branch (a delivery with deleted: true) removes the preview', async () => {
    const head = app.head();
    app.git('push', '-q', `${requireGit().url}/${paths.app}.git`, ':feature/x');
    expect((await deliver('app', 'feature/x', head, ZERO)).status).toBe(202);
    expect(await eventually(`namespace ${previewNs} going`, async () => {
      try {
        const ns = await kubeConfig().makeApiClient(k8s.CoreV1Api).readNamespace({ name: previewNs });
        return ns.metadata?.deletionTimestamp !== undefined ? true : undefined;
      } catch (error) {
        return isNotFound(error) ? true : undefined;
      }
    }, 2 * 60_000, 1000)).toBe(true);
    expect(await served('app', production.name)).toBe('<h1>v2</h1>\n');
  });
});
