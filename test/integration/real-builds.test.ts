/**
 * Real image builds: the build Jobs diploid's controller starts, run by the bed's real node. Each
 * Job's pod runs BuildKit (the `moby/buildkit` look-alike: buildkitd and buildctl built from
 * BuildKit's Go modules, Debian's runc, BuildKit's own buildctl-daemonless.sh), privileged and in
 * the node's network (the bed's registry and git server listen on loopback). It builds the service
 * repo at the pushed commit fetched from the bed's git server, pushes to the bed's registry, and
 * keeps its layer cache there. What the builds make then runs as a pod, observed over HTTP.
 */
import * as k8s from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BuildFailedError, buildJobName, DEFAULT_BUILDER_IMAGE, type BuildJobSettings, type BuildRequest } from '../../src/cluster/build-job.js';
import { readBuildLog } from '../../src/cluster/build-log.js';
import { HttpRegistryClient } from '../../src/cluster/registry.js';
import { JobImageBuilder } from '../../src/controller/builder.js';
import type { ImageBuild } from '../../src/plan/types.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { runCli } from '../support/ops-repo.js';
import { http } from './real-node-app.js';
import { eventually, freshGitRepoUrl, freshNamespace, kubeConfig, requireKubernetes, requireRegistry, uniqueSuffix, type TestNamespace } from './testbed.js';

let root: GitRoot;
let repo: TestRepo;
let repoUrl: string;
let builds: TestNamespace;
let settings: BuildJobSettings;
const project = `rb-${uniqueSuffix()}`;

/** buildkitd's config for the bed: public base images come from the bed's registry, over plain HTTP. */
function buildkitdToml(registry: string): string {
  return [
    '[worker.oci]',
    '  enabled = true',
    '[worker.containerd]',
    '  enabled = false',
    '[registry."docker.io"]',
    `  mirrors = ["${registry}"]`,
    `[registry."${registry}"]`,
    '  http = true',
    '',
  ].join('\n');
}

function imageBuild(service: string, commit: string, tag: string): ImageBuild {
  return { service, repo: 'web', commit, context: '.', dockerfile: 'Dockerfile', inlineDockerfile: false, args: { GREETING: 'hello' }, tag, ref: `${requireRegistry().host}/${project}/${service}:${tag}` };
}

/** Serves /www on 8080 as an unprivileged user; the RUN step's output shows the build really ran it. */
const DOCKERFILE = [
  'FROM busybox:1.36',
  'ARG GREETING',
  'RUN mkdir -p /www && echo "$GREETING from a RUN step" > /www/run.txt && cat /proc/sys/kernel/random/uuid > /www/run-id',
  'COPY index.html /www/index.html',
  'USER 65534',
  'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
  '',
].join('\n');

beforeAll(async () => {
  root = new GitRoot();
  repoUrl = freshGitRepoUrl('web');
  repo = root.repo('web', { Dockerfile: DOCKERFILE, 'index.html': '<h1>v1</h1>\n' });
  repo.git('push', '-q', repoUrl, 'main');
  builds = await freshNamespace('rb-builds', { node: 'real' });
  const registry = requireRegistry().host;
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: builds.name, body: { metadata: { name: 'buildkitd' }, data: { 'buildkitd.toml': buildkitdToml(registry) } } });
  settings = {
    namespace: builds.name,
    image: DEFAULT_BUILDER_IMAGE,
    buildkitdConfig: 'buildkitd',
    plainHttpRegistries: [registry],
    hostNetwork: true,
    activeDeadlineSeconds: 600,
    maxConcurrent: 1,
  };
});

afterAll(async () => {
  await builds?.delete();
  root?.dispose();
});

function builder(): JobImageBuilder {
  return new JobImageBuilder(kubeConfig(), new HttpRegistryClient(), settings, 8 * 60_000);
}

/** Runs `ref` as a pod on the real node and returns what it serves at each of `paths`. */
async function serve(ref: string, paths: readonly string[]): Promise<string[]> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const name = `run-${uniqueSuffix()}`.toLowerCase();
  await core.createNamespacedPod({ namespace: builds.name, body: { metadata: { name }, spec: { containers: [{ name: 'main', image: ref }] } } });
  const ip = await eventually(`pod ${name} running`, async () => {
    const pod = await core.readNamespacedPod({ name, namespace: builds.name });
    return pod.status?.phase === 'Running' ? pod.status.podIP : undefined;
  }, 90_000, 500);
  const bodies: string[] = [];
  for (const path of paths) {
    bodies.push(await eventually(`GET ${path} from ${ref}`, async () => {
      const response = await http(`http://${ip}:8080${path}`);
      return response.status === 200 ? response.body : undefined;
    }, 30_000, 500));
  }
  await core.deleteNamespacedPod({ name, namespace: builds.name });
  return bodies;
}

/** A git server that wants `token` as the Basic password (the bed's own server, `--token-file`). */
async function privateGitServer(token: string): Promise<{ url: string; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'diploid-private-git-'));
  writeFileSync(join(dir, 'token'), `${token}\n`);
  const port = await new Promise<number>((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, join(import.meta.dirname, '../../testbed/git-http-server.ts'), '--root', join(dir, 'repos'), '--port', String(port), '--token-file', join(dir, 'token')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await eventually('the private git server', async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 30_000, 100);
  return { url, stop: () => { child.kill(); rmSync(dir, { recursive: true, force: true }); } };
}

describe('BuildKit build Jobs on the real node', () => {
  it('build the repo at the pushed commit from the git server, push the content tag with a registry layer cache, and the image serves it', async () => {
    const images = builder();
    const build = imageBuild('web', repo.head(), 'c1');
    const request: BuildRequest = { build, repoUrl };
    expect(await images.has(build.ref)).toBe(false);
    expect(await images.start(request)).toEqual({ created: true });
    // Asked again (a restarted controller, a second environment): the same Job, not a second build.
    expect(await images.start(request)).toEqual({ created: false });
    await images.wait(request);
    expect(await images.has(build.ref)).toBe(true);
    expect(await images.has(`${requireRegistry().host}/${project}/web:buildcache`)).toBe(true);

    const [index, run, runId] = await serve(build.ref, ['/index.html', '/run.txt', '/run-id']);
    expect(index).toBe('<h1>v1</h1>\n');
    expect(run).toBe('hello from a RUN step\n');
    expect(runId).toMatch(/^[0-9a-f-]{36}\n$/);

    // A new commit changing only index.html: a fresh Job (a fresh buildkitd) reuses the RUN
    // layer from the registry cache, and the new tag serves the new content.
    const next = repo.commit('v2', { 'index.html': '<h1>v2</h1>\n' });
    repo.git('push', '-q', repoUrl, 'main');
    const second = imageBuild('web', next, 'c2');
    expect(await images.start({ build: second, repoUrl })).toEqual({ created: true });
    await images.wait({ build: second, repoUrl });
    const log = await readBuildLog(kubeConfig(), builds.name, buildJobName(second));
    expect(log).toContain(`importing cache manifest from ${requireRegistry().host}/${project}/web:buildcache`);
    const [index2, , runId2] = await serve(second.ref, ['/index.html', '/run.txt', '/run-id']);
    expect(index2).toBe('<h1>v2</h1>\n');
    // The RUN step's random id is the first build's: its layer came from the cache, it did not run again.
    expect(runId2).toBe(runId);
  });

  it('fail a broken Dockerfile with the failing step and the tail of its log', async () => {
    const broken = repo.commit('broken', { Dockerfile: DOCKERFILE.replace('COPY index.html', 'RUN echo about to fail && exit 3\nCOPY index.html') });
    repo.git('push', '-q', repoUrl, 'main');
    const build = imageBuild('web', broken, 'broken1');
    const images = builder();
    await images.start({ build, repoUrl, environment: 'staging' });
    const error = await images.wait({ build, repoUrl }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(BuildFailedError);
    const failed = error as BuildFailedError;
    expect(failed.reason).toBe('BuildFailed');
    expect(failed.failure.step).toBe('[3/4] RUN echo about to fail && exit 3');
    expect(failed.failure.tail).toContain('exit code: 3');
    expect(failed.message).toContain('at step [3/4] RUN echo about to fail && exit 3');
    expect(failed.message).toContain('about to fail');
    expect(await images.has(build.ref)).toBe(false);

    // The whole log, from the CLI: every step from the git fetch to the failure.
    const kubeconfig = requireKubernetes().kubeconfig;
    const shown = await runCli(['logs', 'web', '--build', '--env', 'staging', '--namespace', builds.name, '--kubeconfig', kubeconfig]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stderr).toContain(`build Job ${builds.name}/${buildJobName(build)}: failed, image ${build.ref} from commit ${broken.slice(0, 12)}`);
    expect(shown.stdout).toContain('[internal] load git source');
    expect(shown.stdout).toContain('[2/4] RUN mkdir -p /www');
    expect(shown.stdout).toContain('about to fail');
    expect(shown.stdout).toContain('exit code: 3');
    expect(shown.stdout.length).toBeGreaterThan(failed.failure.tail.length);
    const none = await runCli(['logs', 'web', '--build', '--env', 'production', '--namespace', builds.name, '--kubeconfig', kubeconfig]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no build of service "web" found in ${builds.name}, environment production`);
  });

  it('clone a private repo with the token of Secret diploid-git, handed to BuildKit as a build secret', async () => {
    const token = `tok-${uniqueSuffix()}`;
    const server = await privateGitServer(token);
    onTestFinished(server.stop);
    const privateUrl = `${server.url}/private.git`;
    const withToken = new URL(privateUrl);
    withToken.username = 'ci';
    withToken.password = token;
    repo.git('push', '-q', withToken.toString(), 'main~1:refs/heads/main');
    const commit = repo.head('main~1');
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({ namespace: builds.name, body: { metadata: { name: 'diploid-git' }, stringData: { username: 'ci', password: token } } });

    const without = imageBuild('private', commit, 'anon');
    const refused = await builder().start({ build: without, repoUrl: privateUrl }).then(() => builder().wait({ build: without, repoUrl: privateUrl })).then(() => undefined, (caught: unknown) => caught);
    expect(refused).toBeInstanceOf(BuildFailedError);
    expect((refused as BuildFailedError).failure.step).toMatch(/^\[internal\] load git source http:\/\/127\.0\.0\.1:\d+\/private\.git#/);

    const images = new JobImageBuilder(kubeConfig(), new HttpRegistryClient(), { ...settings, gitSecret: 'diploid-git' }, 8 * 60_000);
    const build = imageBuild('private', commit, 'auth');
    await images.start({ build, repoUrl: privateUrl });
    await images.wait({ build, repoUrl: privateUrl });
    expect(await images.has(build.ref)).toBe(true);
    const batch = kubeConfig().makeApiClient(k8s.BatchV1Api);
    const job = await batch.readNamespacedJob({ name: buildJobName(build), namespace: builds.name });
    expect(JSON.stringify(job)).not.toContain(token);
  });

  it('run at most maxConcurrent builds at once: the second Job starts after the first ends', async () => {
    const images = builder();
    const a = imageBuild('one', repo.head('main~1'), 'p1');
    const b = imageBuild('two', repo.head('main~1'), 'p2');
    const startedA = await images.start({ build: a, repoUrl });
    expect(startedA.created).toBe(true);
    const startB = images.start({ build: b, repoUrl });
    await images.wait({ build: a, repoUrl });
    await startB;
    const batch = kubeConfig().makeApiClient(k8s.BatchV1Api);
    const jobA = await batch.readNamespacedJob({ name: buildJobName(a), namespace: builds.name });
    const jobB = await batch.readNamespacedJob({ name: buildJobName(b), namespace: builds.name });
    const endedA = jobA.status?.completionTime;
    const createdB = jobB.metadata?.creationTimestamp;
    expect(endedA).toBeDefined();
    expect(new Date(String(createdB)).getTime()).toBeGreaterThanOrEqual(new Date(String(endedA)).getTime());
    await images.wait({ build: b, repoUrl });
  });
});
