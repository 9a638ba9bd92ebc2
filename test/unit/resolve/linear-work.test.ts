import { describe, expect, it } from 'vitest';
import { findPlaceholders, type ScanMeter } from '../../../src/resolve/placeholders.js';
import { FragmentExpander } from '../../../src/resolve/fragments.js';
import { Problems } from '../../../src/resolve/problems.js';
import { resolveApp } from '../../../src/resolve/index.js';
import type { ServicePatchSpec } from '../../../src/model/service.js';

function steps(template: string): number {
  const meter: ScanMeter = { steps: 0 };
  findPlaceholders(template, meter);
  return meter.steps;
}

describe('the placeholder scan is linear', () => {
  it('finds what the old pattern found', () => {
    const found = findPlaceholders('a {{ env.X }} b {{{ shared.Y }}} {{ }} {{ x } }} {{services.api.url}}').map((p) => p.expression);
    expect(found).toEqual(['env.X', 'shared.Y', '', 'services.api.url']);
    expect([...'a {{ env.X }} b {{{ shared.Y }}} {{ }} {{ x } }} {{services.api.url}}'.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)].map((m) => m[1])).toEqual(found);
  });

  it('looks at each character a bounded number of times, whatever the input', () => {
    // `{{` then spaces and no `}}` took 59 s at 4,000 spaces with the old pattern (cubic).
    for (const make of [(n: number) => `{{${' '.repeat(n)}`, (n: number) => '{'.repeat(n), (n: number) => '{{ a }'.repeat(n), (n: number) => `${'{{'.repeat(n)}}}`]) {
      const small = steps(make(1000));
      const large = steps(make(100_000));
      expect(large).toBeLessThanOrEqual(small * 100 * 1.01);
      expect(large).toBeLessThanOrEqual(make(100_000).length * 3);
    }
  });
});

describe('fragments are expanded once each', () => {
  it('24 fragments each extending the previous one twice cost 24 expansions, not 2^24', () => {
    const fragments: Record<string, ServicePatchSpec> = { f0: { image: 'nginx' } };
    for (let i = 1; i < 24; i++) fragments[`f${i}`] = { extends: [`f${i - 1}`, `f${i - 1}`], args: [`${i}`] };
    const expander = new FragmentExpander(fragments, '.diploid.conf.js', new Problems());
    const expanded = expander.expand({ extends: ['f23', 'f23'] }, 'services/api.js', 'services.api');
    expect(expander.expansions).toBe(24);
    expect(expanded).toEqual({ image: 'nginx', args: ['23'] });
  });

  it('resolves such a config end to end', () => {
    const fragments: Record<string, unknown> = { f0: { image: 'nginx' } };
    for (let i = 1; i < 24; i++) fragments[`f${i}`] = { extends: [`f${i - 1}`, `f${i - 1}`] };
    const app = resolveApp(
      { config: { file: '.diploid.conf.js', value: { project: 'shop', fragments, environments: { production: {} } } }, services: [{ document: { file: 'services/api.js', value: { name: 'api', extends: ['f23'] } }, origin: { kind: 'ops' } }] },
      { environment: 'production' },
    );
    expect(app.services[0]?.image).toEqual({ kind: 'pull', ref: 'nginx' });
  });

  it('still reports a cycle once, with its chain', () => {
    const problems = new Problems();
    new FragmentExpander({ a: { extends: ['b'] }, b: { extends: ['a'] } }, '.diploid.conf.js', problems).expand({ extends: ['a'] }, 'services/api.js', 'services.api');
    expect(problems.list).toEqual([{ file: '.diploid.conf.js', path: 'fragments.b.extends[0]', message: 'fragments form a cycle: a -> b -> a' }]);
  });
});
