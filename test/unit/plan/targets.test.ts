import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { ConfigSpec } from '../../../src/model/config.js';
import { expiredPreviews, planTargets } from '../../../src/plan/targets.js';

const config = {
  project: 'shop',
  environments: { production: {}, staging: {} },
  branches: [
    { branch: 'main', environment: 'production' },
    { branch: 'develop', environment: 'staging' },
    { branch: 'feature/*', preview: { mode: 'full', base: 'staging', ttl: '2d' } },
  ],
} as unknown as ConfigSpec;
const repo = (branches: string[]) => ({ branches: new Set(branches), defaultBranch: 'main' });

describe('planTargets', () => {
  it('maps a branch to its environment, and ignores unmatched branches with a note', () => {
    expect(planTargets({ config, configFile: 'c.js', push: { repo: 'web', branch: 'develop', after: 'a' }, pushedRepo: repo(['main', 'develop']) }).targets.map((t) => t.name)).toEqual(['staging']);
    const ignored = planTargets({ config, configFile: 'c.js', push: { repo: 'web', branch: 'wip', after: 'a' }, pushedRepo: repo(['main', 'wip']) });
    expect(ignored.targets).toEqual([]);
    expect(ignored.notes[0]).toMatch(/matches no rule/);
  });

  it('reaches environments whose branch the pushed repo lacks when its default branch moves', () => {
    const { targets } = planTargets({ config, configFile: 'c.js', push: { repo: 'billing', branch: 'main', after: 'a' }, pushedRepo: repo(['main']) });
    expect(targets.map((t) => [t.name, t.branch])).toEqual([['production', 'main'], ['staging', 'develop']]);
  });

  it('names a preview, and tears it down when the branch is gone everywhere', () => {
    const created = planTargets({ config, configFile: 'c.js', push: { repo: 'web', branch: 'feature/x', after: 'a' }, pushedRepo: repo(['main', 'feature/x']) });
    expect(created.targets[0]).toMatchObject({ name: 'feature-x', namespace: 'shop-feature-x', preview: { mode: 'full', base: 'staging' } });
    const gone = planTargets({ config, configFile: 'c.js', push: { repo: 'web', branch: 'feature/x' }, pushedRepo: repo(['main']), branchElsewhere: false });
    expect(gone.targets[0]).toMatchObject({ name: 'feature-x', teardown: true });
    const kept = planTargets({ config, configFile: 'c.js', push: { repo: 'web', branch: 'feature/x' }, pushedRepo: repo(['main']), branchElsewhere: true });
    expect(kept.targets[0]?.teardown).toBeUndefined();
  });

  it('refuses shadowed rules', () => {
    const bad = { ...config, branches: [{ branch: '*', environment: 'staging' }, ...(config.branches ?? [])] } as ConfigSpec;
    expect(() => planTargets({ config: bad, configFile: 'c.js', push: { repo: 'web', branch: 'x', after: 'a' }, pushedRepo: repo([]) })).toThrow(ConfigError);
  });

  it('expires previews after their ttl, given the time', () => {
    const current = [
      { name: 'feature-x', namespace: 'shop-feature-x', branch: 'feature/x', preview: { mode: 'full' as const, base: 'staging', ttl: '2d' }, updatedAt: '2026-01-01T00:00:00Z' },
      { name: 'staging', namespace: 'shop-staging' },
    ];
    expect(expiredPreviews(current, new Date('2026-01-02T00:00:00Z'))).toEqual([]);
    expect(expiredPreviews(current, new Date('2026-01-04T00:00:00Z')).map((t) => [t.name, t.teardown])).toEqual([['feature-x', true]]);
  });
});
