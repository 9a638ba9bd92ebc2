import { describe, expect, it, vi } from 'vitest';
import { serviceSchema } from '../../../src/model/service.js';
import { prevalidateServiceDocument, resolveApp, type AppSources } from '../../../src/resolve/index.js';
import { validateSources } from '../../../src/resolve/layers.js';
import { Problems } from '../../../src/resolve/problems.js';

const config = { file: '.diploid.conf.js', value: { project: 'shop', environments: { production: {} } } };
const sources = (...values: unknown[]): AppSources => ({
  config,
  services: values.map((value, index) => ({ document: { file: `services/${index}.js`, value }, origin: { kind: 'ops' as const } })),
});

describe('prevalidateServiceDocument (render validates service files while the sandbox evaluates the next)', () => {
  it('leaves a valid document validated: validateSources then finds its spec instead of parsing it again', () => {
    const input = sources({ name: 'api', image: 'example/api:1' }, [{ name: 'web', image: 'example/web:1' }, { name: 'worker', image: 'example/worker:1' }]);
    const parse = vi.spyOn(serviceSchema, 'safeParse');
    try {
      for (const { document } of input.services) prevalidateServiceDocument(document);
      expect(parse).toHaveBeenCalledTimes(3);
      const ahead = validateSources(input, new Problems());
      expect(parse).toHaveBeenCalledTimes(3);
      expect([...(ahead?.services.keys() ?? [])]).toEqual(['api', 'web', 'worker']);
      // The same documents copied are other values: parsed anew, to equal specs.
      const parsed = validateSources(structuredClone(input), new Problems());
      expect(parse).toHaveBeenCalledTimes(6);
      for (const name of ['api', 'web', 'worker']) expect(ahead?.services.get(name)?.ops?.spec).toEqual(parsed?.services.get(name)?.ops?.spec);
    } finally {
      parse.mockRestore();
    }
  });

  it('drops nothing: an invalid document is still reported, at its file and path, by resolveApp', () => {
    const input = sources({ name: 'api', image: 'example/api:1', replicas: 'two' }, { name: 'web', image: 'example/web:1', portz: 80 });
    for (const { document } of input.services) prevalidateServiceDocument(document);
    let problems: Array<{ file: string; path: string }> = [];
    try {
      resolveApp(input, { environment: 'production' });
    } catch (error) {
      problems = (error as { problems: Array<{ file: string; path: string }> }).problems;
    }
    expect(problems.map(({ file, path }) => `${file} ${path}`)).toEqual(expect.arrayContaining(['services/0.js services.api.replicas', 'services/1.js services.web.portz']));
  });
});
