import { describe, expect, it } from 'vitest';
import { redactHostText } from '../../../src/hosts/redact.js';

describe('redactHostText', () => {
  it('removes known secrets, token-shaped strings and credentials in headers, JSON and forms', () => {
    const text = [
      'my-own-secret-value',
      'glpat-abcdefghij0123456789',
      'ghp_abcdefghijklmnopqrstuvwxyz012345',
      'github_pat_11ABCDEFG0123456789_abcdefghijkl',
      'Authorization: Bearer eyJhbGciOi.x.y',
      '{"private-token":"hunter22","secret":"s3cr3t-value","password":"pw123456"}',
      'token=abcdef123456&x=1',
    ].join(' | ');
    const redacted = redactHostText(text, ['my-own-secret-value']);
    for (const leaked of ['my-own-secret-value', 'glpat-abcdefghij', 'ghp_abcdefghij', 'github_pat_11', 'eyJhbGciOi', 'hunter22', 's3cr3t-value', 'pw123456', 'abcdef123456']) {
      expect(redacted).not.toContain(leaked);
    }
    expect(redacted).toContain('[redacted]');
  });

  it('keeps an ordinary message, and cuts control characters and length', () => {
    expect(redactHostText('Hook url is invalid')).toBe('Hook url is invalid');
    expect(redactHostText('a\u001b[2Kb\r\nc')).toBe('a [2Kb c');
    expect(redactHostText('x'.repeat(10_000))).toHaveLength(303);
  });
});
