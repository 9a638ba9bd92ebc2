import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { composeBackend } from '../../src/backends/compose/backend.js';
import { compileCompose } from '../../src/backends/compose/index.js';
import { environmentNames, resolveApp } from '../../src/resolve/index.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { expectGolden, goldenCases, SHOP_EXAMPLE } from '../support/golden.js';
import { caddyError, composeGoChecker, composeGoError, composeV1Error, schemaErrors } from '../unit/compose/peers.js';

const cases = [
  ...goldenCases().map((golden) => ({ ...golden, expectedDir: join(golden.expectedDir, 'compose') })),
  { name: 'examples/shop', opsDir: join(SHOP_EXAMPLE, 'ops'), expectedDir: join(import.meta.dirname, '../fixtures/golden-examples/shop/compose') },
];

let checker: string;
beforeAll(() => {
  checker = composeGoChecker();
}, 600_000);

describe.each(cases)('compose golden: $name', (golden) => {
  it('renders every environment exactly as the expected file, which compose, its schema and Caddy accept', { timeout: 120_000 }, async () => {
    const loaded = await loadOpsDir(golden.opsDir, 'reposDir' in golden && golden.reposDir !== undefined ? { reposDir: golden.reposDir } : {});
    expect(loaded.problems).toEqual([]);
    const environments = environmentNames(loaded.sources);
    expect(environments.length).toBeGreaterThan(0);
    for (const environment of environments) {
      const app = resolveApp(loaded.sources, { environment, addressPorts: composeBackend.addressPorts });
      const rendered = composeBackend.render(app, 'yaml');
      expectGolden(join(golden.expectedDir, `${environment}.yaml`), rendered.stream);
      expectGolden(join(golden.expectedDir, `${environment}.warnings.txt`), rendered.warnings.map((warning) => `${warning}\n`).join(''));

      const output = compileCompose(app);
      expect(parse(rendered.stream)).toEqual(output.file);
      expect(JSON.parse(composeBackend.render(app, 'json').stream)).toEqual(output.file);
      expect(schemaErrors(output.file), `${environment}: schema`).toEqual([]);
      expect(composeGoError(checker, rendered.stream, output), `${environment}: compose-go`).toBeUndefined();
      expect(composeV1Error(rendered.stream, output), `${environment}: docker-compose v1`).toBeUndefined();
      const caddyfile = output.file.configs?.['diploid-proxy-caddyfile'];
      if (caddyfile !== undefined) expect(caddyError(caddyfile.content.replaceAll('$$', '$')), `${environment}: caddy`).toBeUndefined();
    }
  });
});
