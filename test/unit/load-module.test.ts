import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModule, ModuleLoadError } from '../../src/sources/load-module.js';
import { writeOpsRepo } from '../support/ops-repo.js';

async function loadError(file: string): Promise<ModuleLoadError> {
  const error = await loadModule(file).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ModuleLoadError);
  return error as ModuleLoadError;
}

describe('loadModule', () => {
  it("evaluates a .js file with import/export and 'diploid', whatever the package.json around it says", async () => {
    const dir = writeOpsRepo({
      'package.json': '{ "name": "web" }\n',
      'diploid.service.js': "import { defineService, ref } from 'diploid';\nexport default defineService({ name: 'web', env: { API: ref('api').url } });\n",
    });
    expect(await loadModule(join(dir, 'diploid.service.js'))).toEqual({ name: 'web', env: { API: { $ref: 'api', part: 'url' } } });
  });

  it('evaluates the file and what it imports afresh on every call', async () => {
    const dir = writeOpsRepo({
      'lib/port.js': 'export const port = 80;\n',
      'services/api.js': "import { port } from '../lib/port.js';\nexport default { name: 'api', port };\n",
    });
    const file = join(dir, 'services/api.js');
    expect(await loadModule(file)).toEqual({ name: 'api', port: 80 });
    writeFileSync(join(dir, 'lib/port.js'), 'export const port = 8080;\n');
    expect(await loadModule(file)).toEqual({ name: 'api', port: 8080 });
    writeFileSync(file, "import { port } from '../lib/port.js';\nexport default { name: 'web', port };\n");
    expect(await loadModule(file)).toEqual({ name: 'web', port: 8080 });
  });

  it('evaluates CommonJS and TypeScript files', async () => {
    const dir = writeOpsRepo({
      'a.cjs': "module.exports = { name: 'a' };\n",
      'b.ts': "import { defineService } from 'diploid';\nconst port: number = 80;\nexport default defineService({ name: 'b', port });\n",
    });
    expect(await loadModule(join(dir, 'a.cjs'))).toEqual({ name: 'a' });
    expect(await loadModule(join(dir, 'b.ts'))).toEqual({ name: 'b', port: 80 });
  });

  it('points at the line of a syntax error', async () => {
    const dir = writeOpsRepo({ 'services/api.js': "import { defineService } from 'diploid';\n\nexport default defineService({ name: 'api' port: 80 });\n" });
    const error = await loadError(join(dir, 'services/api.js'));
    expect(error.line).toBe(3);
    expect(error.message).not.toContain('diploid-load');
  });

  it('points at the line that threw, and names what is missing', async () => {
    const dir = writeOpsRepo({
      'services/api.js': "const name = 'api';\n\nthrow new Error('no ' + name);\n",
      'services/web.js': "import { nothing } from './missing.js';\nexport default nothing;\n",
    });
    const thrown = await loadError(join(dir, 'services/api.js'));
    expect(thrown.line).toBe(3);
    expect(thrown.message).toBe('no api');
    const missing = await loadError(join(dir, 'services/web.js'));
    expect(missing.message).toContain('missing.js');
    expect(missing.message).not.toContain('diploid-load');
  });
});
