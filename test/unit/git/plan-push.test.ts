import { afterEach, describe, expect, it } from 'vitest';
import { compileKubernetes } from '../../../src/backends/kubernetes/index.js';
import { previewApp } from '../../../src/plan/preview-app.js';
import { resolveState } from '../../../src/plan/resolve-state.js';
import type { EnvironmentPlan, Plan } from '../../../src/plan/types.js';
import { planPush, type PushRequest } from '../../../src/sources/git/plan-push.js';
import { Workspace } from '../../../src/sources/git/workspace.js';
import { createShop } from './shop.js';

let shop: ReturnType<typeof createShop> | undefined;
afterEach(() => shop?.root.dispose());

async function plan(push: PushRequest, current?: Parameters<typeof planPush>[0]['current']): Promise<Plan> {
  if (shop === undefined) throw new Error('no shop');
  const result = await planPush({ cacheDir: shop.root.cache, ops: `${shop.root.root}/ops`, locations: { gitRoot: shop.root.root }, push, ...(current === undefined ? {} : { current }) });
  return result.plan;
}

function env(result: Plan, name: string): EnvironmentPlan {
  const found = result.environments.find((item) => item.name === name);
  if (found === undefined) throw new Error(`no environment ${name} in plan: ${JSON.stringify(result)}`);
  return found;
}

describe('planning a push from git', { timeout: 60_000 }, () => {
  it('a change to one file of a monorepo service: one build, one deploy', async () => {
    shop = createShop();
    const before = shop.backend.head();
    const after = shop.backend.commit('api v2', { 'api/index.js': 'console.log("api v2")\n' });
    const result = await plan({ repo: 'backend', branch: 'main', from: before, to: after });
    expect(result.environments.map((item) => item.name)).toEqual(['production']);
    const production = env(result, 'production');
    expect(production).toMatchObject({ action: 'update', namespace: 'shop-production', deploy: ['api'], remove: [], reuse: [] });
    expect(production.builds).toHaveLength(1);
    expect(production.builds[0]).toMatchObject({ service: 'api', repo: 'backend', commit: after, context: 'api', dockerfile: 'Dockerfile' });
    expect(production.builds[0]?.ref).toBe(`registry.test/shop/api:${production.builds[0]?.tag}`);
  });

  it('a change to a watched shared folder rebuilds every service watching it', async () => {
    shop = createShop();
    const before = shop.backend.head();
    const after = shop.backend.commit('shared', { 'shared/util.js': 'export const x = 2\n' });
    const production = env(await plan({ repo: 'backend', branch: 'main', from: before, to: after }), 'production');
    expect(production.deploy).toEqual(['api', 'worker']);
    expect(production.builds.map((build) => build.service)).toEqual(['api', 'worker']);
  });

  it('a shared value change redeploys exactly the services that use it, without builds', async () => {
    shop = createShop();
    const before = shop.ops.head();
    const config = (await import('./shop.js')).OPS_CONFIG().replace("CURRENCY: 'EUR'", "CURRENCY: 'USD'");
    const after = shop.ops.commit('currency', { '.diploid.conf.js': config });
    const production = env(await plan({ repo: 'ops', branch: 'main', from: before, to: after }), 'production');
    expect(production.deploy).toEqual(['billing']);
    expect(production.builds).toEqual([]);
  });

  it('a docs-only change plans nothing', async () => {
    shop = createShop();
    const before = shop.backend.head();
    const after = shop.backend.commit('docs', { 'README.md': '# backend, documented\n', 'docs/guide.md': 'hello\n' });
    const result = await plan({ repo: 'backend', branch: 'main', from: before, to: after });
    expect(result.environments).toEqual([]);
    expect(result.notes.join('\n')).toMatch(/"production": nothing changed/);
    const opsBefore = shop.ops.head();
    const opsAfter = shop.ops.commit('docs', { 'README.md': '# ops, documented\n' });
    expect((await plan({ repo: 'ops', branch: 'main', from: opsBefore, to: opsAfter })).environments).toEqual([]);
  });

  it('a new feature branch gets a full preview of every service', async () => {
    shop = createShop();
    shop.web.branch('feature/cart');
    const after = shop.web.commit('cart', { 'index.html': '<h1>cart</h1>\n' });
    const preview = env(await plan({ repo: 'web', branch: 'feature/cart', to: after }), 'feature-cart');
    expect(preview).toMatchObject({ action: 'create', namespace: 'shop-feature-cart', preview: { mode: 'full', base: 'staging', baseNamespace: 'shop-staging' } });
    expect(preview.deploy).toEqual(['api', 'billing', 'cache', 'web', 'worker']);
    expect(preview.builds.map((build) => build.service)).toEqual(['api', 'billing', 'web', 'worker']);
    expect(preview.builds.find((build) => build.service === 'web')?.commit).toBe(after);
    expect(preview.reuse).toEqual([]);
  });

  it('a single preview deploys the changed service and reuses the others from the base through ExternalName Services', async () => {
    shop = createShop();
    shop.web.branch('single/cart');
    const after = shop.web.commit('cart', { 'index.html': '<h1>cart</h1>\n' });
    const preview = env(await plan({ repo: 'web', branch: 'single/cart', to: after }), 'single-cart');
    expect(preview).toMatchObject({ action: 'create', deploy: ['web'], preview: { mode: 'single', ttl: '3d' } });
    expect(preview.builds.map((build) => build.service)).toEqual(['web']);
    expect(preview.reuse).toEqual(['api', 'billing', 'cache', 'worker'].map((service) => ({ service, namespace: 'shop-staging' })));

    const workspace = new Workspace({ cacheDir: shop.root.cache, ops: `${shop.root.root}/ops`, locations: { gitRoot: shop.root.root } });
    const state = await workspace.state({ branch: 'single/cart' });
    const resolved = resolveState(state, 'single-cart', { name: 'single-cart', namespace: 'shop-single-cart', base: 'staging' });
    if (!resolved.ok) throw new Error(JSON.stringify(resolved.problems));
    const objects = compileKubernetes(previewApp(resolved.app, preview)).objects;
    const services = objects.filter((object) => object.kind === 'Service') as unknown as Array<{ metadata: { name: string }; spec: { type?: string; externalName?: string } }>;
    expect(services.find((service) => service.metadata.name === 'api')?.spec).toEqual({ type: 'ExternalName', externalName: 'api.shop-staging.svc.cluster.local' });
    expect(services.find((service) => service.metadata.name === 'web')?.spec.type).toBeUndefined();
    expect(objects.filter((object) => object.kind === 'Deployment').map((object) => object.metadata?.name)).toEqual(['web']);
  });

  it('a deleted branch tears its preview down', async () => {
    shop = createShop();
    shop.web.branch('feature/cart');
    const head = shop.web.commit('cart', { 'index.html': '<h1>cart</h1>\n' });
    await plan({ repo: 'web', branch: 'feature/cart', to: head });
    shop.web.checkout('main');
    shop.web.deleteBranch('feature/cart');
    const result = await plan({ repo: 'web', branch: 'feature/cart', from: head });
    expect(result.environments).toHaveLength(1);
    expect(env(result, 'feature-cart')).toMatchObject({ action: 'delete', namespace: 'shop-feature-cart', deploy: [], builds: [] });
    const closed = await plan({ repo: 'web', branch: 'feature/cart', closed: true });
    expect(env(closed, 'feature-cart').action).toBe('delete');
  });

  it('the same feature branch in two repos lands in one preview', async () => {
    shop = createShop();
    shop.web.branch('feature/multi');
    const webHead = shop.web.commit('web part', { 'index.html': '<h1>multi</h1>\n' });
    shop.backend.branch('feature/multi');
    const backendHead = shop.backend.commit('api part', { 'api/index.js': 'console.log("multi")\n' });
    const fromBackend = await plan({ repo: 'backend', branch: 'feature/multi', to: backendHead });
    const fromWeb = await plan({ repo: 'web', branch: 'feature/multi', to: webHead });
    expect(fromBackend.environments.map((item) => item.name)).toEqual(['feature-multi']);
    expect(fromWeb.environments.map((item) => item.name)).toEqual(['feature-multi']);
    const builds = env(fromBackend, 'feature-multi').builds;
    expect(builds.find((build) => build.service === 'web')?.commit).toBe(webHead);
    expect(builds.find((build) => build.service === 'api')?.commit).toBe(backendHead);
    // Deleted from one repo only: the preview stays, with that repo back on its default branch.
    shop.web.checkout('main');
    shop.web.deleteBranch('feature/multi');
    const deleted = env(await plan({ repo: 'web', branch: 'feature/multi', from: webHead }), 'feature-multi');
    expect(deleted, JSON.stringify(deleted)).toMatchObject({ action: "update" });
    expect(deleted.deploy, JSON.stringify(deleted)).toEqual(['web']);
    expect(deleted.builds[0]?.commit).toBe(shop.web.head('main'));
  });

  it('a force-push (before not an ancestor of after) compares the two states', async () => {
    shop = createShop();
    shop.backend.checkout('develop');
    const base = shop.backend.head();
    const first = shop.backend.commit('api', { 'api/index.js': 'console.log("a")\n' });
    const second = shop.backend.commit('worker', { 'worker/index.js': 'console.log("w2")\n' });
    expect(env(await plan({ repo: 'backend', branch: 'develop', from: first, to: second }), 'staging').deploy).toEqual(['worker']);
    shop.backend.resetHard(base);
    const rewritten = shop.backend.commit('api again', { 'api/index.js': 'console.log("b")\n' });
    // Not an ancestor: git exits 1.
    expect(() => shop?.backend.git('merge-base', '--is-ancestor', second, rewritten)).toThrow();
    const staging = env(await plan({ repo: 'backend', branch: 'develop', from: second, to: rewritten }), 'staging');
    // The worker goes back to its original code, the api gets new code: both redeploy and rebuild.
    expect(staging.deploy).toEqual(['api', 'worker']);
    expect(staging.builds.map((build) => build.service)).toEqual(['api', 'worker']);
  });

  it('a push to a default branch also reaches environments whose branch the repo lacks', async () => {
    shop = createShop({ withoutDevelop: ['billing'] });
    const before = shop.billing.head();
    const after = shop.billing.commit('billing', { 'app/main.sh': 'echo v2\n' });
    const result = await plan({ repo: 'billing', branch: 'main', from: before, to: after });
    expect(result.environments.map((item) => [item.name, item.deploy])).toEqual([
      ['production', ['billing']],
      ['staging', ['billing']],
    ]);
  });
});
