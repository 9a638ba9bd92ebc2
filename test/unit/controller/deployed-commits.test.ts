import { describe, expect, it } from 'vitest';
import { deployedCommits } from '../../../src/controller/deployed-commits.js';

const OPS1 = '1'.repeat(40);
const APP1 = 'a'.repeat(40);
const APP2 = 'b'.repeat(40);

describe('which commits a deploy names', () => {
  it('a first deploy names the push', () => {
    expect(deployedCommits({ repo: 'app', branch: 'main', after: APP1 }, { ops: OPS1, app: APP1 }, undefined)).toEqual({ repo: 'app', commit: APP1, targets: [{ repo: 'app', sha: APP1 }], moved: true });
  });

  it('a resync that read the ops repo first names the service commit it found, not the ops commit', () => {
    const result = deployedCommits({ repo: 'ops', branch: 'main', after: OPS1 }, { ops: OPS1, app: APP2 }, { ops: OPS1, app: APP1 });
    expect(result).toEqual({ repo: 'app', commit: APP2, targets: [{ repo: 'app', sha: APP2 }], moved: true });
  });

  it('the pushed repo comes first when several moved', () => {
    const OPS2 = '2'.repeat(40);
    const result = deployedCommits({ repo: 'app', branch: 'main', after: APP2 }, { ops: OPS2, app: APP2 }, { ops: OPS1, app: APP1 });
    expect(result.repo).toBe('app');
    expect(result.targets).toEqual([{ repo: 'app', sha: APP2 }, { repo: 'ops', sha: OPS2 }]);
  });

  it('re-applying what runs gives no commit a status again', () => {
    expect(deployedCommits({ repo: 'ops', branch: 'main', after: OPS1 }, { ops: OPS1, app: APP1 }, { ops: OPS1, app: APP1 })).toMatchObject({ targets: [], moved: false });
  });
});
