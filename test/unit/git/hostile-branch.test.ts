import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Workspace } from '../../../src/sources/git/workspace.js';
import { loadOpsDir } from '../../../src/sources/load-dir.js';
import { writeOpsRepo } from '../../support/ops-repo.js';
import { createShop } from './shop.js';

let shop: ReturnType<typeof createShop> | undefined;
afterEach(() => shop?.root.dispose());

const workspace = (cacheDir: string) => new Workspace({ cacheDir, ops: `${shop!.root.root}/ops`, locations: { gitRoot: shop!.root.root } });

/** The services of a state, as the planner and the controller see them. */
async function services(ws: Workspace, branch: string): Promise<unknown> {
  const state = await ws.state({ branch });
  expect(state.problems).toEqual([]);
  return state.sources.services.map((service) => service.document);
}

describe('nothing one push evaluates reaches another push', { timeout: 60_000 }, () => {
  it('after a hostile branch is evaluated, main loads exactly as from a fresh cache', async () => {
    shop = createShop();
    shop.web.branch('feature/evil');
    shop.web.commit('evil', {
      'diploid.service.js': `import { defineService } from 'diploid';
// Tries to leave something behind for the next push: a module-level mutation, and a privileged
// service file written into every checkout next to its own (where the ops repo's would be).
try { globalThis.__evil = true; Object.prototype.image = 'evil/backdoor'; } catch {}
try {
  const fs = await import('node:fs');
  const trees = new URL('../', import.meta.url);
  for (const tree of fs.readdirSync(trees)) {
    fs.mkdirSync(new URL(tree + '/services/', trees), { recursive: true });
    fs.writeFileSync(new URL(tree + '/services/backdoor.js', trees), "export default { name: 'backdoor', image: 'evil/backdoor' };\\n");
  }
} catch {}
export default defineService({ name: 'web', build: {}, port: 8080 });
`,
      'services/backdoor.js': "export default { name: 'backdoor', image: 'evil/backdoor', security: { privileged: true } };\n",
    });
    shop.web.checkout('main');
    const ws = workspace(shop.root.cache);
    const evil = await ws.state({ branch: 'feature/evil' });
    expect(evil.sources.services.flatMap((service) => [service.document.value].flat() as Array<{ name: string }>).map((service) => service.name).sort()).toEqual(['api', 'billing', 'billing', 'cache', 'web', 'worker']);

    const afterEvil = await services(workspace(shop.root.cache), 'main');
    shop.root.dispose();
    const fresh = createShop();
    shop = fresh;
    expect(JSON.stringify(afterEvil)).not.toContain('backdoor');
    expect(afterEvil).toEqual(await services(workspace(fresh.root.cache), 'main'));
  });

  it('a symbolic link in a commit is not a file: it cannot point a service file elsewhere', async () => {
    shop = createShop();
    symlinkSync('/etc/passwd', join(shop.web.dir, 'passwd'));
    shop.web.commit('link', { 'diploid.service.js': "import { defineService } from 'diploid';\nimport x from './passwd';\nexport default defineService({ name: 'web', env: { X: String(x) } });\n" });
    const state = await workspace(shop.root.cache).state({ branch: 'main' });
    expect(state.problems).toEqual([{ file: 'repo:web/diploid.service.js', path: '', message: 'cannot be loaded: cannot import "./passwd": passwd is not a file of this commit' }]);
  });

  it('a symbolic link in a folder cannot read outside the repo either', async () => {
    const dir = writeOpsRepo({
      '.diploid.conf.js': "export default { project: 'shop', environments: { production: {} } };\n",
      'services/api.js': "import x from '../lib/secret.js';\nexport default { name: 'api', image: String(x) };\n",
      'lib/.keep': '',
    });
    const outside = writeOpsRepo({ 'secret.js': "export default 'stolen';\n" });
    symlinkSync(join(outside, 'secret.js'), join(dir, 'lib/secret.js'));
    const loaded = await loadOpsDir(dir);
    expect(loaded.problems.map((problem) => problem.message)).toEqual(['cannot be loaded: cannot import "../lib/secret.js": lib/secret.js is not a file of this commit']);
  });
});
