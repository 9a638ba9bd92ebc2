import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { ref, secret } from '../../../src/model/values.js';
import { planEnvironment } from '../../../src/plan/index.js';
import type { AppState } from '../../../src/plan/types.js';
import { resolveApp, type AppSources } from '../../../src/resolve/index.js';

// A state that differs from the last one in a few files shares the other files' values (the
// loader's evaluation cache hands out the same object for the same blob), as these states do.
type Doc = AppSources['services'][number];
const doc = (index: number, value: Record<string, unknown>): Doc => ({ document: { file: `services/${index}.js`, value }, origin: { kind: 'ops' } });
const config = { file: '.diploid.conf.js', value: { project: 'shop', ingress: { domain: 'example.com' }, environments: { production: {} } } };

function services(count: number): Doc[] {
  return Array.from({ length: count }, (_, i) =>
    doc(i, { name: `svc-${i}`, image: `reg/svc-${i}:1`, port: 8080 + i, env: { NEXT: ref(`svc-${(i + 1) % count}`).address }, routes: [`svc-${i}`] }),
  );
}

const resolve = (input: AppSources) => resolveApp(input, { environment: 'production' });
/** The same resolution from copies of every value: nothing shared, nothing to reuse. */
const fresh = (input: AppSources) => resolve(structuredClone(input));

describe('resolving a state that shares most files with the last one', () => {
  it('reuses the services whose inputs are the same objects, and equals a resolution from scratch', () => {
    const before: AppSources = { config, services: services(20) };
    const first = resolve(before);
    // svc-5 changes its image: only svc-5 is resolved again.
    const changed = [...before.services];
    changed[5] = doc(5, { ...(before.services[5]!.document.value as object), image: 'reg/svc-5:2' });
    const after: AppSources = { config, services: changed };
    const second = resolve(after);
    expect(second).toEqual(fresh(after));
    expect(second.services[5]).not.toBe(first.services.find((s) => s.name === 'svc-5'));
    expect(second.services.find((s) => s.name === 'svc-5')?.image).toMatchObject({ ref: 'reg/svc-5:2' });
    for (const name of ['svc-0', 'svc-6', 'svc-19']) expect(second.services.find((s) => s.name === name)).toBe(first.services.find((s) => s.name === name));
    // svc-4 reads svc-5 (its address): resolved again, to the same result.
    expect(second.services.find((s) => s.name === 'svc-4')).toEqual(first.services.find((s) => s.name === 'svc-4'));
  });

  it('resolves again a service that reads a changed one (its port, its route), and no other', () => {
    const before: AppSources = { config, services: services(10) };
    const first = resolve(before);
    // svc-3 listens elsewhere: svc-2 points at it (NEXT), so svc-2's address changes too.
    const changed = [...before.services];
    changed[3] = doc(3, { ...(before.services[3]!.document.value as object), port: 9999 });
    const after: AppSources = { config, services: changed };
    const second = resolve(after);
    expect(second).toEqual(fresh(after));
    const svc2 = second.services.find((s) => s.name === 'svc-2');
    expect(svc2?.env[0]?.value).toEqual({ kind: 'literal', value: 'svc-3:9999' });
    expect(svc2).not.toBe(first.services.find((s) => s.name === 'svc-2'));
    expect(second.services.find((s) => s.name === 'svc-4')).toBe(first.services.find((s) => s.name === 'svc-4'));
  });

  it('resolves everything again when the config changed, and under another image tag', () => {
    const before: AppSources = { config, services: services(5) };
    const first = resolve(before);
    const otherConfig = { ...config, value: { ...config.value, ingress: { domain: 'example.org' } } };
    const after: AppSources = { config: otherConfig, services: before.services };
    const second = resolve(after);
    expect(second).toEqual(fresh(after));
    expect(second.services[0]?.routes[0]?.host).toBe('svc-0.production.example.org');
    expect(second.services[1]).not.toBe(first.services[1]);
    const tagged = resolveApp(after, { environment: 'production', imageTags: { 'svc-1': 'abc' } });
    expect(tagged).toEqual(resolveApp(structuredClone(after), { environment: 'production', imageTags: { 'svc-1': 'abc' } }));
  });

  it('still reports a problem a reused service causes in another: a reference to a service that is gone', () => {
    const before: AppSources = { config, services: services(4) };
    resolve(before);
    // svc-2 is removed; svc-1 still refers to it.
    const after: AppSources = { config, services: before.services.filter((_, i) => i !== 2) };
    let thrown: unknown;
    try {
      resolve(after);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([expect.objectContaining({ file: 'services/1.js', path: 'services["svc-1"].env.NEXT', message: expect.stringContaining('refers to service "svc-2", which does not exist') })]);
    // And the same sources, once fixed, resolve (nothing stale was remembered from the failure).
    const fixed: AppSources = { config, services: before.services };
    expect(resolve(fixed)).toEqual(fresh(fixed));
  });
});

describe('planning a push from states that share most files', () => {
  const state = (services: Doc[], objects: Record<string, string>): AppState => ({ sources: { config, services }, repos: { ops: { commit: 'c'.repeat(40), objects: new Map(Object.entries(objects)) } }, problems: [] });
  const target = { name: 'production', branch: 'main', reason: 'push' };
  const withSecret = (index: number): Doc => doc(index, { name: `svc-${index}`, image: `reg/svc-${index}:1`, port: 8080, env: { TOKEN: secret('api', 'token') } });

  it('deploys the changed service and those that read it, not the services reused as they were', () => {
    const before = services(30);
    const after = [...before];
    after[7] = doc(7, { ...(before[7]!.document.value as object), port: 7000 });
    const plan = planEnvironment(target, { before: state(before, {}), after: state(after, {}) });
    // svc-6 points at svc-7 (NEXT), so its address changes with it.
    expect(plan?.deploy).toEqual(['svc-6', 'svc-7']);
  });

  it('deploys a reused service whose secret file changed in git, and only it', () => {
    const before = [...services(5), withSecret(5)];
    const files = (id: string) => ({ 'secrets/api.yaml': id, 'services/0.js': 'f0' });
    resolveApp({ config, services: before }, { environment: 'production' });
    const plan = planEnvironment(target, { before: state(before, files('aaa')), after: state(before, files('bbb')) });
    expect(plan?.deploy).toEqual(['svc-5']);
    expect(planEnvironment(target, { before: state(before, files('aaa')), after: state(before, files('aaa')) })).toBeUndefined();
  });
});
