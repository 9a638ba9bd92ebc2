import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubernetesBackend } from '../../src/backends/kubernetes/backend.js';
import { compileKubernetes } from '../../src/backends/kubernetes/index.js';
import { environmentNames, resolveApp } from '../../src/resolve/index.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { goldenCases, SHOP_EXAMPLE } from '../support/golden.js';
import { installHttpRouteCrd, requireKubernetes, testbed } from './testbed.js';

const cases = [...goldenCases(), { name: 'examples/shop', opsDir: join(SHOP_EXAMPLE, 'ops') }];

/**
 * kubectl maps every kind through the API server, and a bare cluster has no Gateway API. This
 * test is about reading YAML, not about Gateway API validation (kubernetes-models checks the
 * schema in the golden tests), so an HTTPRoute CRD that keeps every field is enough here.
 */
beforeAll(installHttpRouteCrd);

/**
 * The rendered YAML is meant for kubectl, a YAML 1.1 reader: parsed by the real kubectl, every
 * document must come back as exactly the object diploid built (no string turned into a number
 * or a boolean, no field lost).
 */
describe.each(cases)('kubectl reads the rendered YAML of $name', (golden) => {
  it('as exactly the objects diploid built', async () => {
    const { kubeconfig } = requireKubernetes();
    const kubectl = join(testbed().binDir, 'kubectl');
    const loaded = await loadOpsDir(golden.opsDir, 'reposDir' in golden && golden.reposDir ? { reposDir: golden.reposDir } : {});
    for (const environment of environmentNames(loaded.sources)) {
      const app = resolveApp(loaded.sources, { environment });
      const yaml = kubernetesBackend.render(app, 'yaml').stream;
      const output = execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'create', '--dry-run=client', '--validate=false', '-o', 'json', '-f', '-'], { input: yaml, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
      // One pretty-printed JSON document per object, each starting with a `{` of its own line.
      const items = output.trim().split(/\n(?=\{)/).map((document) => JSON.parse(document) as unknown);
      expect(items).toEqual(JSON.parse(JSON.stringify(compileKubernetes(app).objects)));
    }
  });
});
