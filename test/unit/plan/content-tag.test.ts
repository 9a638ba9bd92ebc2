import { describe, expect, it } from 'vitest';
import { contentTag } from '../../../src/plan/content-tag.js';
import type { ResolvedImage } from '../../../src/resolve/model.js';

type Build = Extract<ResolvedImage, { kind: 'build' }>;
const image: Build = { kind: 'build', ref: 'r/api:x', repo: 'backend', context: 'api', dockerfile: 'Dockerfile', args: {}, watch: ['api', 'shared'] };
const snapshot = (objects: Record<string, string>) => ({ commit: 'c'.repeat(40), objects: new Map(Object.entries(objects)) });

describe('contentTag', () => {
  const base = { '.': 'root1', api: 'tree-api', 'api/Dockerfile': 'blob-df', shared: 'tree-shared', docs: 'tree-docs' };

  it('depends on the build inputs only', () => {
    const a = contentTag(image, snapshot(base));
    expect(contentTag(image, snapshot({ ...base, '.': 'root2', docs: 'other' }))).toEqual(a);
    expect(contentTag(image, snapshot({ ...base, shared: 'changed' }))).not.toEqual(a);
    expect(contentTag({ ...image, args: { X: '1' } }, snapshot(base))).not.toEqual(a);
    expect(a).toMatchObject({ tag: expect.stringMatching(/^[0-9a-f]{20}$/) });
  });

  it('names a missing context or Dockerfile, but tolerates a watched path that does not exist yet', () => {
    expect(contentTag(image, snapshot({ api: 'tree-api', 'api/Dockerfile': 'blob' }))).toHaveProperty('tag');
    expect(contentTag(image, snapshot({ '.': 'root' }))).toEqual({ missing: ['api', 'api/Dockerfile'] });
  });
});
