import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/model/config.js';
import { serviceSchema } from '../../src/model/service.js';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** Keys in the first column of the table that follows a heading. */
function tableKeys(heading: string): string[] {
  const start = readme.indexOf(heading);
  expect(start, `README.md has no heading ${heading}`).toBeGreaterThanOrEqual(0);
  const keys: string[] = [];
  for (const line of readme.slice(start + heading.length).split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    const match = /^\| `([^`]+)` \|/.exec(line);
    if (match?.[1] !== undefined) keys.push(match[1]);
  }
  return keys;
}

describe('the DSL reference in README.md', () => {
  it('lists exactly the keys of the config schema', () => {
    expect(tableKeys('### `.diploid.conf.js`').sort()).toEqual(Object.keys(configSchema.shape).sort());
  });

  it('lists exactly the keys of the service schema', () => {
    expect(tableKeys('### Service files (`defineService`)').sort()).toEqual(Object.keys(serviceSchema.shape).sort());
  });
});
