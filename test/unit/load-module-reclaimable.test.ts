import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModule, preferReclaimableLoading } from '../../src/sources/load-module.js';
import { writeOpsRepo } from '../support/ops-repo.js';

// A file of its own: the setting holds for the whole process (here, this test file's worker).
describe('loadModule for long-running processes', () => {
  it("still resolves 'diploid' and evaluates files and their imports afresh", async () => {
    preferReclaimableLoading();
    const dir = writeOpsRepo({
      'lib/port.js': 'export const port = 80;\n',
      'services/api.js': "import { defineService } from 'diploid';\nimport { port } from '../lib/port.js';\nexport default defineService({ name: 'api', port });\n",
    });
    const file = join(dir, 'services/api.js');
    expect(await loadModule(file)).toEqual({ name: 'api', port: 80 });
    writeFileSync(join(dir, 'lib/port.js'), 'export const port = 8080;\n');
    expect(await loadModule(file)).toEqual({ name: 'api', port: 8080 });
  });
});
