import { describe, expect, it } from 'vitest';
import { checkBranchRules, covers, feedBranch, matchBranch, parsePattern } from '../../../src/plan/branch-rules.js';
import type { BranchRule } from '../../../src/model/config.js';

const rules: BranchRule[] = [
  { branch: 'main', environment: 'production' },
  { branch: 'develop', environment: 'staging' },
  { branch: 'release/*', environment: 'staging' },
  { branch: /^hotfix-\d+$/, environment: 'production' },
  { branch: 'feature/*', preview: { mode: 'single', base: 'staging' } },
];
const environments = { production: {}, staging: {} };

describe('branch rules', () => {
  it('picks the first matching rule: exact, glob, regex', () => {
    expect(matchBranch(rules, 'main')?.index).toBe(0);
    expect(matchBranch(rules, 'release/1.2')?.rule.environment).toBe('staging');
    expect(matchBranch(rules, 'hotfix-12')?.index).toBe(3);
    expect(matchBranch(rules, 'hotfix-x')).toBeUndefined();
    expect(matchBranch(rules, 'feature/cart/v2')?.index).toBe(4);
    expect(matchBranch(rules, 'mainline')).toBeUndefined();
  });

  it('reads "/.../" strings as regular expressions', () => {
    expect(parsePattern('/^v\\d+$/i')).toMatchObject({ kind: 'regex' });
    expect(matchBranch([{ branch: '/^V\\d+$/i', environment: 'production' }], 'v2')?.index).toBe(0);
  });

  it('finds the branch feeding an environment from exact rules only', () => {
    expect(feedBranch(rules, 'staging')).toBe('develop');
    expect(feedBranch(rules, 'nowhere')).toBeUndefined();
  });

  it('reports a rule shadowed by an earlier one', () => {
    const problems = checkBranchRules({ environments, branches: [{ branch: '*', environment: 'staging' }, { branch: 'feature/*', preview: { mode: 'full', base: 'staging' } }] }, '.diploid.conf.js');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('branches[1].branch');
    expect(problems[0]?.message).toMatch(/can never match.*branches\[0\]/);
  });

  it('accepts rules that are not shadowed, and catches an exact name under a glob', () => {
    expect(checkBranchRules({ environments, branches: rules }, 'c.js')).toEqual([]);
    const problems = checkBranchRules({ environments, branches: [{ branch: 'release/*', environment: 'staging' }, { branch: 'release/1', environment: 'production' }] }, 'c.js');
    expect(problems.map((problem) => problem.path)).toEqual(['branches[1].branch']);
  });

  it('decides glob inclusion', () => {
    expect(covers(parsePattern('feature/*'), parsePattern('feature/a*'))).toBe(true);
    expect(covers(parsePattern('feature/a*'), parsePattern('feature/*'))).toBe(false);
    expect(covers(parsePattern('f?o'), parsePattern('f*o'))).toBe(false);
    expect(covers(parsePattern(/.*/), parsePattern('x/*'))).toBe(true);
  });

  it('reports unknown environments in rules', () => {
    const problems = checkBranchRules({ environments, branches: [{ branch: 'x', preview: { mode: 'full', base: 'stagin' } }] }, 'c.js');
    expect(problems[0]).toMatchObject({ path: 'branches[0].preview.base' });
    expect(problems[0]?.message).toContain('"stagin"');
  });
});
