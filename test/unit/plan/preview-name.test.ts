import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { previewName } from '../../../src/plan/preview-name.js';

describe('previewName', () => {
  it('turns a branch into a namespace-safe name', () => {
    expect(previewName('feature/Cart_v2', { project: 'shop', reserved: [] })).toEqual({ name: 'feature-cart-v2', namespace: 'shop-feature-cart-v2' });
  });

  it('keeps names within 63 characters, unique per branch', () => {
    const long = `feature/${'x'.repeat(80)}`;
    const a = previewName(long, { project: 'shop', reserved: [] });
    const b = previewName(`${long}y`, { project: 'shop', reserved: [] });
    expect(a.namespace.length).toBeLessThanOrEqual(63);
    expect(a.namespace).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(a.name).not.toBe(b.name);
  });

  it('adds a hash when the name is taken by another branch or an environment', () => {
    const taken = previewName('feature-x', { project: 'shop', reserved: [], existing: new Map([['feature-x', 'feature/x']]) });
    expect(taken.name).toMatch(/^feature-x-[0-9a-f]{6}$/);
    expect(previewName('feature/x', { project: 'shop', reserved: [], existing: new Map([['feature-x', 'feature/x']]) }).name).toBe('feature-x');
    expect(previewName('staging', { project: 'shop', reserved: ['staging'] }).name).toMatch(/^staging-[0-9a-f]{6}$/);
  });

  it('refuses a branch without letters or digits', () => {
    expect(() => previewName('__/--', { project: 'shop', reserved: [] })).toThrow(UserError);
    expect(() => previewName('__/--', { project: 'shop', reserved: [] })).toThrow(/cannot become a preview namespace/);
  });
});
