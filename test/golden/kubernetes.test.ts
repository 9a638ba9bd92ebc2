import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubernetesBackend } from '../../src/backends/kubernetes/backend.js';
import { compileKubernetes } from '../../src/backends/kubernetes/index.js';
import { validateObjects } from '../../src/backends/kubernetes/validate.js';
import { environmentNames, resolveApp } from '../../src/resolve/index.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { expectGolden, goldenCases, SHOP_EXAMPLE } from '../support/golden.js';

const cases = [
  ...goldenCases().map((golden) => ({ ...golden, expectedDir: join(golden.expectedDir, 'kubernetes') })),
  { name: 'examples/shop', opsDir: join(SHOP_EXAMPLE, 'ops'), expectedDir: join(import.meta.dirname, '../fixtures/golden-examples/shop/kubernetes') },
];

describe.each(cases)('kubernetes golden: $name', (golden) => {
  it('renders every environment exactly as the expected YAML, with valid objects', async () => {
    const loaded = await loadOpsDir(golden.opsDir, 'reposDir' in golden && golden.reposDir ? { reposDir: golden.reposDir } : {});
    expect(loaded.problems).toEqual([]);
    const environments = environmentNames(loaded.sources);
    expect(environments.length).toBeGreaterThan(0);
    for (const environment of environments) {
      const app = resolveApp(loaded.sources, { environment });
      const { stream } = kubernetesBackend.render(app, 'yaml');
      expectGolden(join(golden.expectedDir, `${environment}.yaml`), stream);
      const { objects } = compileKubernetes(app);
      expect(await validateObjects(objects)).toEqual([]);
    }
  });
});
