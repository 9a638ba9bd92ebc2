import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ApplyError } from '../../../src/cluster/apply.js';
import { buildJobName, buildJobObjects, cacheRef, gitContext, jobOutcome } from '../../../src/cluster/build-job.js';
import { buildFailure } from '../../../src/cluster/build-log.js';
import { parseImageRef } from '../../../src/cluster/registry.js';
import { backoffMs, classifyError } from '../../../src/controller/errors.js';
import { RetryableError, TerminalError } from '../../../src/errors.js';
import { GitError } from '../../../src/sources/git/git.js';
import { requestFromEvent, resyncRequests } from '../../../src/controller/requests.js';
import { conditionsFor, currentEnvironments, parseStatus, statusConfigMap, statusObjectName, type EnvironmentStatus } from '../../../src/controller/status.js';
import { ConfigError, UserError } from '../../../src/errors.js';
import type { ImageBuild } from '../../../src/plan/types.js';

const source = { host: 'gl', repo: 'web', provider: 'gitlab' as const, repoPath: 'shop/web', deliveryId: 'x' };
const sha = 'a'.repeat(40);
const zero = '0'.repeat(40);

describe('events to reconcile requests', () => {
  it('a push, a new branch, a deletion, a closed merge request; tags and open requests ask nothing', () => {
    expect(requestFromEvent({ ...source, kind: 'push', branch: 'main', before: 'b'.repeat(40), after: sha, created: false })).toEqual({ repo: 'web', branch: 'main', from: 'b'.repeat(40), to: sha });
    expect(requestFromEvent({ ...source, kind: 'push', branch: 'f', before: zero, after: sha, created: true })).toEqual({ repo: 'web', branch: 'f', to: sha });
    expect(requestFromEvent({ ...source, kind: 'push', branch: 'f', before: sha, after: zero, created: false })).toEqual({ repo: 'web', branch: 'f', from: sha });
    expect(requestFromEvent({ ...source, kind: 'branch-deleted', branch: 'f' })).toEqual({ repo: 'web', branch: 'f' });
    const mr = { ...source, kind: 'merge-request' as const, branch: 'f', targetBranch: 'main', number: 1, action: 'x', after: sha, draft: false, fromFork: false };
    expect(requestFromEvent({ ...mr, state: 'merged' })).toEqual({ repo: 'web', branch: 'f', closed: true });
    expect(requestFromEvent({ ...mr, state: 'open' })).toBeUndefined();
    expect(requestFromEvent({ ...mr, state: 'closed', fromFork: true })).toBeUndefined();
    expect(requestFromEvent({ ...source, kind: 'tag', tag: 'v1', before: zero, after: sha, deleted: false })).toBeUndefined();
  });
});

describe('resync requests', () => {
  const status = (environment: string, branch?: string): EnvironmentStatus => ({ environment, namespace: `ns-${environment}`, ...(branch === undefined ? {} : { branch, preview: { mode: 'full', base: 'production' } }), updatedAt: '2024-01-01T00:00:00.000Z', conditions: [] });

  it('every ruled branch and default branch as a push, ops first; a teardown for previews whose branch is gone', () => {
    const config = { branches: [{ branch: 'main', environment: 'production' }, { branch: 'feature/*', preview: { mode: 'full' as const, base: 'production' } }] };
    const requests = resyncRequests(
      config,
      [
        { repo: 'web', defaultBranch: 'trunk', heads: new Map([['feature/b', '2'], ['trunk', '3'], ['wip', '4']]) },
        { repo: 'ops', defaultBranch: 'main', heads: new Map([['main', '1']]) },
      ],
      [status('production'), status('feature-a', 'feature/a'), status('feature-b', 'feature/b')],
    );
    expect(requests).toEqual([
      { repo: 'ops', branch: 'main', to: '1', resync: true },
      { repo: 'web', branch: 'feature/b', to: '2', resync: true },
      { repo: 'web', branch: 'trunk', to: '3', resync: true },
      { repo: 'ops', branch: 'feature/a', closed: true, resync: true },
    ]);
  });
});

describe('status conditions', () => {
  it('each phase sets Ready / Reconciling / Stalled, keeping transition times that did not change', () => {
    const first = conditionsFor('progressing', 'Progressing', 'go', 't1');
    expect(first.map((item) => [item.type, item.status])).toEqual([['Ready', 'Unknown'], ['Reconciling', 'True'], ['Stalled', 'False']]);
    const ready = conditionsFor('ready', 'Succeeded', 'done', 't2', first);
    expect(ready.map((item) => [item.type, item.status, item.lastTransitionTime])).toEqual([['Ready', 'True', 't2'], ['Reconciling', 'False', 't2'], ['Stalled', 'False', 't1']]);
    const stalled = conditionsFor('stalled', 'BuildFailed', 'no', 't3', ready);
    expect(stalled.map((item) => [item.type, item.status, item.reason])).toEqual([['Ready', 'False', 'BuildFailed'], ['Reconciling', 'False', 'BuildFailed'], ['Stalled', 'True', 'BuildFailed']]);
    expect(conditionsFor('retrying', 'RetryScheduled', 'later', 't4').map((item) => item.status)).toEqual(['False', 'True', 'False']);
  });

  it('round-trips through its ConfigMap, named diploid-status-<env> and at most 63 characters', () => {
    const status: EnvironmentStatus = { environment: 'production', namespace: 'shop-production', updatedAt: 't', conditions: conditionsFor('ready', 'Succeeded', 'ok', 't') };
    const map = statusConfigMap('diploid-system', status);
    expect(map.metadata.name).toBe('diploid-status-production');
    expect(map.metadata.annotations?.['diploid.dev/ready']).toBe('True');
    expect(parseStatus(map.data as Record<string, string>)).toEqual(status);
    expect(parseStatus({ 'status.json': 'not json' })).toBeUndefined();
    const long = statusObjectName('x'.repeat(63));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).not.toBe(statusObjectName(`${'x'.repeat(62)}y`));
    expect(currentEnvironments([status])).toEqual([{ name: 'production', namespace: 'shop-production', updatedAt: 't' }]);
  });
});

describe('retryable and terminal errors', () => {
  it('API 5xx, 429, conflicts and timeouts retry; 4xx, config and user errors are terminal', () => {
    expect(classifyError(new k8s.ApiException(503, 'unavailable', {}, {})).retryable).toBe(true);
    expect(classifyError(new k8s.ApiException(429, 'slow down', {}, {})).retryable).toBe(true);
    expect(classifyError(new k8s.ApiException(422, 'invalid', {}, {}))).toMatchObject({ retryable: false, reason: 'ObjectRefused' });
    expect(classifyError(new k8s.ApiException(403, 'forbidden', {}, {}))).toMatchObject({ retryable: false, reason: 'Forbidden' });
    expect(classifyError(new ApplyError('Deployment a/b', 'field is immutable', [], 422))).toMatchObject({ retryable: false, reason: 'ObjectRefused' });
    expect(classifyError(new ApplyError('Deployment a/b', 'etcd timeout', [], 500)).retryable).toBe(true);
    expect(classifyError(new ApplyError('Deployment a/b', 'fetch failed', [])).retryable).toBe(true);
    // Classified by the status kept on the error, not by its text: a message starting with a 4xx number changes nothing.
    expect(classifyError(new ApplyError('Deployment a/b', '422 looks like a refusal', [], 503)).retryable).toBe(true);
    // Git out of reach, even wrapped in a user-facing error, is retried; the wrapper keeps the cause.
    const wrapped = new UserError('cannot read the ops repo', { cause: new GitError(['fetch'], 'unable to access', 128) });
    expect(classifyError(wrapped).retryable).toBe(true);
    expect(classifyError(new ConfigError([{ file: 'f', path: 'p', message: 'bad' }]))).toMatchObject({ retryable: false, reason: 'ConfigInvalid' });
    expect(classifyError(new UserError('nope')).retryable).toBe(false);
    expect(classifyError(new TerminalError('BuildFailed', 'x'))).toMatchObject({ retryable: false, reason: 'BuildFailed' });
    expect(classifyError(new RetryableError('x')).retryable).toBe(true);
    expect(classifyError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })).retryable).toBe(true);
  });

  it('backoff doubles up to a cap', () => {
    expect([1, 2, 3, 10, 30].map((attempt) => backoffMs(attempt, { baseMs: 1000, maxMs: 60_000 }))).toEqual([1000, 2000, 4000, 60_000, 60_000]);
    expect(backoffMs(1, { baseMs: 1000, random: () => 1 })).toBe(1200);
  });
});

describe('build Jobs', () => {
  const build: ImageBuild = { service: 'web', repo: 'web', commit: sha, context: 'app', dockerfile: 'Dockerfile', inlineDockerfile: false, args: { B: '2', A: '1' }, target: 'prod', tag: 't1', ref: 'registry.example.com/shop/web:t1' };

  it('run BuildKit with the git context at the commit and sub-folder, the Dockerfile, build args, target, push and a registry layer cache', () => {
    const { job, configMap } = buildJobObjects({ build, repoUrl: 'https://gitlab.example.com/shop/web.git' }, { namespace: 'diploid-system', image: 'moby/buildkit:1', activeDeadlineSeconds: 600 });
    expect(configMap).toBeUndefined();
    expect(job.metadata).toMatchObject({ name: buildJobName(build), namespace: 'diploid-system' });
    const spec = job.spec as { activeDeadlineSeconds: number; backoffLimit: number; template: { spec: { hostNetwork?: boolean; containers: Array<{ image: string; command: string[]; args: string[]; securityContext: unknown }> } } };
    expect(spec).toMatchObject({ activeDeadlineSeconds: 600, backoffLimit: 0 });
    const container = spec.template.spec.containers[0];
    expect(container?.image).toBe('moby/buildkit:1');
    expect(container?.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(container?.command[2]).toContain('exec buildctl-daemonless.sh "$@"');
    expect(container?.securityContext).toEqual({ privileged: true });
    expect(spec.template.spec.hostNetwork).toBeUndefined();
    expect(container?.args).toEqual([
      'build',
      '--frontend=dockerfile.v0',
      `--opt=context=https://gitlab.example.com/shop/web.git#${sha}:app`,
      '--opt=filename=Dockerfile',
      '--opt=build-arg:A=1',
      '--opt=build-arg:B=2',
      '--opt=target=prod',
      '--output=type=image,name=registry.example.com/shop/web:t1,push=true',
      '--import-cache=type=registry,ref=registry.example.com/shop/web:buildcache',
      '--export-cache=type=registry,ref=registry.example.com/shop/web:buildcache,mode=max',
      '--progress=plain',
    ]);
  });

  it('say registry.insecure for plain-HTTP registries, and pass a git token as a build secret, never in an argument', () => {
    const { job } = buildJobObjects({ build: { ...build, ref: '127.0.0.1:5000/web:t1' }, repoUrl: 'https://bot:s3cret@git.example/r.git' }, { namespace: 'n', image: 'b', plainHttpRegistries: ['127.0.0.1:5000'], gitSecret: 'git', hostNetwork: true });
    const text = JSON.stringify(job);
    expect(text).not.toContain('s3cret');
    const pod = (job.spec as { template: { spec: { hostNetwork: boolean; containers: Array<{ command: string[]; args: string[]; env: unknown[] }> } } }).template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.containers[0]?.args).toContain('--output=type=image,name=127.0.0.1:5000/web:t1,push=true,registry.insecure=true');
    expect(pod.containers[0]?.args).toContain('--export-cache=type=registry,ref=127.0.0.1:5000/web:buildcache,mode=max,registry.insecure=true');
    expect(pod.containers[0]?.command[2]).toContain('--secret "id=GIT_AUTH_TOKEN.git.example,env=GIT_AUTH_TOKEN"');
    expect(pod.containers[0]?.env).toEqual([{ name: 'GIT_AUTH_TOKEN', valueFrom: { secretKeyRef: { name: 'git', key: 'password', optional: true } } }]);
  });

  it('read an inline Dockerfile from a ConfigMap as a local dockerfile', () => {
    const { job, configMap } = buildJobObjects({ build: { ...build, inlineDockerfile: true }, repoUrl: 'https://h/r.git', inlineDockerfile: 'FROM nginx\n' }, { namespace: 'n', image: 'k' });
    expect(configMap?.data).toEqual({ Dockerfile: 'FROM nginx\n' });
    const container = (job.spec as { template: { spec: { containers: Array<{ args: string[]; volumeMounts: Array<{ mountPath: string }> }> } } }).template.spec.containers[0];
    expect(container?.args).toContain('--local=dockerfile=/diploid/dockerfile');
    // The git context would otherwise win: the frontend reads the Dockerfile from the named local.
    expect(container?.args).toContain('--opt=dockerfilekey=dockerfile');
    expect(container?.volumeMounts.map((mount) => mount.mountPath)).toEqual(['/var/lib/buildkit', '/diploid/dockerfile']);
  });

  it('names are stable per image, valid DNS labels; git contexts drop credentials; caches sit beside the image', () => {
    expect(buildJobName(build)).toBe(buildJobName({ ...build }));
    expect(buildJobName({ service: 'x'.repeat(80), ref: 'r' }).length).toBeLessThanOrEqual(63);
    expect(gitContext('https://bot:token@h.example/r.git', 'c')).toBe('https://h.example/r.git#c');
    expect(gitContext('http://127.0.0.1:9/r.git', 'c', './sub/dir/')).toBe('http://127.0.0.1:9/r.git#c:sub/dir');
    expect(cacheRef('localhost:5000/a/b:t')).toBe('localhost:5000/a/b:buildcache');
    expect(cacheRef('r.example/a@sha256:00')).toBe('r.example/a:buildcache');
  });

  it("find the failing step and the log's tail in buildctl's plain progress", () => {
    const log = [
      '#1 [internal] load git source http://127.0.0.1:1/web.git#abc',
      '#1 0.100 Initialized empty Git repository',
      '#1 DONE 0.2s',
      '#3 importing cache manifest from r.example/web:buildcache',
      '#3 ERROR: failed to configure registry cache importer: r.example/web:buildcache: not found',
      '#5 [2/3] RUN make',
      '#5 CACHED',
      '#6 [3/3] RUN npm test',
      '#6 0.512 npm ERR! missing script: test',
      '#6 ERROR: process "/bin/sh -c npm test" did not complete successfully: exit code: 1',
      '------',
      ' > [3/3] RUN npm test:',
      'error: failed to solve: process "/bin/sh -c npm test" did not complete successfully: exit code: 1',
      '',
    ].join('\n');
    expect(buildFailure(log)).toEqual({ step: '[3/3] RUN npm test', tail: log.trimEnd() });
    expect(buildFailure(log, 2).tail).toBe(' > [3/3] RUN npm test:\nerror: failed to solve: process "/bin/sh -c npm test" did not complete successfully: exit code: 1');
    expect(buildFailure('error: failed to solve: no such host\n')).toEqual({ tail: 'error: failed to solve: no such host' });
  });

  it('read a Job as running, complete or failed with its reason', () => {
    expect(jobOutcome({ status: {} })).toEqual({ state: 'running' });
    expect(jobOutcome({ status: { conditions: [{ type: 'Complete', status: 'True' }] } })).toEqual({ state: 'complete' });
    expect(jobOutcome({ status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }] } })).toEqual({ state: 'failed', reason: 'DeadlineExceeded: Job was active longer than specified deadline' });
  });
});

describe('image references', () => {
  it('split into registry host, name and tag', () => {
    expect(parseImageRef('127.0.0.1:5000/shop/web:abc')).toEqual({ host: '127.0.0.1:5000', name: 'shop/web', tag: 'abc' });
    expect(parseImageRef('redis')).toEqual({ host: 'registry-1.docker.io', name: 'library/redis', tag: 'latest' });
    expect(parseImageRef('localhost/app:1')).toEqual({ host: 'localhost', name: 'app', tag: '1' });
  });
});
