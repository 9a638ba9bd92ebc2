import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { resolveApp } from '../../../src/resolve/index.js';

describe('previews of long branches', () => {
  it('report a service whose <name>-<preview> label would overflow, at its file and path', async () => {
    const { previewName } = await import('../../../src/plan/preview-name.js');
    const { withPreviewEnvironment } = await import('../../../src/plan/resolve-state.js');
    const sources = {
      config: { file: '.diploid.conf.js', value: { project: 'shop', environments: { staging: {} } } },
      services: [{ document: { file: 'services/checkout.js', value: { name: 'checkout', image: 'nginx' } }, origin: { kind: 'ops' as const } }],
    };
    const preview = previewName('feature/a-branch-name-that-goes-on-and-on-and-on-and-on-for-ever', { project: 'shop', reserved: ['staging'] });
    expect(preview.namespace.length).toBeLessThanOrEqual(63);
    const run = () => resolveApp(withPreviewEnvironment(sources, { ...preview, base: 'staging' }), { environment: preview.name });
    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        {
          file: 'services/checkout.js',
          path: 'services.checkout.name',
          message: `in environment "${preview.name}" the label app.kubernetes.io/instance would be "checkout-${preview.name}" (<name>-<environment>, ${9 + preview.name.length} characters); Kubernetes allows 63: use a name of at most ${62 - preview.name.length} characters`,
        },
      ]);
    }
  });
});

describe('own keys', () => {
  // The loaders refuse `__proto__` keys when they copy a file's value; the resolver refuses them
  // too, for every other way sources reach it (tests, tools that build AppSources in memory).
  it('refuses an own __proto__ key with its file and path, instead of dropping it', () => {
    const service = JSON.parse('{"name":"api","image":"nginx","env":{"__proto__":{"X":"1"}}}') as unknown;
    const run = () =>
      resolveApp({ config: { file: '.diploid.conf.js', value: { project: 'shop', environments: { production: {} } } }, services: [{ document: { file: 'services/api.json', value: service }, origin: { kind: 'ops' } }] }, { environment: 'production' });
    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([{ file: 'services/api.json', path: 'services.api.env.__proto__', message: '"__proto__" is not allowed as a key: it would change what every object inherits; rename it' }]);
    }
  });
});
