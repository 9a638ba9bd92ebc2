/**
 * Proves the test bed is real and works: the API server answers with the pinned version, kwok
 * keeps the fake node Ready, Deployments become Available, Jobs complete, the registry speaks the
 * v2 API, and the git server takes a push and serves a clone.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { readVersions } from '../../testbed/config.js';
import {
  eventually,
  freshGitRepoUrl,
  freshNamespace,
  kubeConfig,
  requireKubernetes,
  requireRegistry,
} from './testbed.js';

const run = promisify(execFile);

describe('kubernetes', () => {
  it('answers with the pinned version', async () => {
    const version = await kubeConfig().makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toBe(readVersions().K8S_VERSION);
  });

  it('has a Ready, untainted node managed by kwok', async () => {
    const { nodeName } = requireKubernetes();
    const node = await kubeConfig().makeApiClient(k8s.CoreV1Api).readNode({ name: nodeName });
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).toBe('True');
    expect(node.spec?.taints ?? []).toEqual([]);
    expect(node.metadata?.annotations?.['kwok.x-k8s.io/node']).toBe('fake');
  });

  it('gives each test its own namespace', async () => {
    const a = await freshNamespace('iso');
    const b = await freshNamespace('iso');
    expect(a.name).not.toBe(b.name);
    const ns = await kubeConfig().makeApiClient(k8s.CoreV1Api).readNamespace({ name: a.name });
    expect(ns.status?.phase).toBe('Active');
  });

  it('rolls out a Deployment until it is Available', async () => {
    const { name: namespace } = await freshNamespace('deploy');
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const labels = { app: 'hello' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'hello' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'hello', image: 'registry.invalid/hello:1', ports: [{ containerPort: 8080 }] }] },
          },
        },
      },
    });
    const deployment = await eventually('Deployment hello Available with 2 replicas', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'hello', namespace });
      const available = d.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
      return available && d.status?.availableReplicas === 2 ? d : false;
    }, 90_000);
    expect(deployment.status?.readyReplicas).toBe(2);
    const pods = await kubeConfig().makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace });
    expect(pods.items.map((p) => p.spec?.nodeName)).toEqual([requireKubernetes().nodeName, requireKubernetes().nodeName]);
  });

  it('runs a Job to completion', async () => {
    const { name: namespace } = await freshNamespace('job');
    const batch = kubeConfig().makeApiClient(k8s.BatchV1Api);
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'once' },
        spec: {
          backoffLimit: 0,
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'once', image: 'registry.invalid/once:1' }] },
          },
        },
      },
    });
    const job = await eventually('Job once Complete', async () => {
      const j = await batch.readNamespacedJob({ name: 'once', namespace });
      return j.status?.conditions?.find((c) => c.type === 'Complete')?.status === 'True' ? j : false;
    }, 90_000);
    expect(job.status?.succeeded).toBe(1);
  });
});

describe('registry', () => {
  it('answers the v2 API', async () => {
    const { url } = requireRegistry();
    const response = await fetch(`${url}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('stores and serves an image manifest', async () => {
    const { url } = requireRegistry();
    const repo = `testbed/proof-${Date.now()}`;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    const location = new URL(start.headers.get('location') ?? '', url);
    location.searchParams.set('digest', digest);
    const upload = await fetch(location, { method: 'PUT', body: config, headers: { 'content-type': 'application/octet-stream' } });
    expect(upload.status).toBe(201);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: config.length },
      layers: [],
    });
    const put = await fetch(`${url}/v2/${repo}/manifests/v1`, {
      method: 'PUT',
      body: manifest,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(put.status).toBe(201);
    const tags = (await (await fetch(`${url}/v2/${repo}/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(['v1']);
  });
});

describe('git server', () => {
  it('takes a push and serves a clone over HTTP', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diploid-git-'));
    try {
      const url = freshGitRepoUrl('proof');
      const git = (cwd: string, ...args: string[]) =>
        run('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', ...args], { cwd });
      const source = join(dir, 'source');
      await run('git', ['init', '--quiet', '--initial-branch=main', source]);
      await writeFile(join(source, 'diploid.config.ts'), 'export default {};\n');
      await git(source, 'add', '.');
      await git(source, 'commit', '--quiet', '-m', 'first');
      await git(source, 'push', '--quiet', url, 'main');
      const head = (await git(source, 'rev-parse', 'HEAD')).stdout.trim();

      const clone = join(dir, 'clone');
      await git(dir, 'clone', '--quiet', url, clone);
      expect((await git(clone, 'rev-parse', 'HEAD')).stdout.trim()).toBe(head);
      expect(await readFile(join(clone, 'diploid.config.ts'), 'utf8')).toBe('export default {};\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers 404 for a repository that does not exist', async () => {
    const response = await fetch(`${freshGitRepoUrl('missing')}/info/refs?service=git-upload-pack`);
    expect(response.status).toBe(404);
  });
});
