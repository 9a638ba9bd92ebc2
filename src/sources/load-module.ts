import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

/**
 * Where `import ... from 'diploid'` points inside config files, so that an ops repo needs no
 * install of its own to be rendered. Works from the sources (tests) and from the build.
 */
function packageEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of ['../dsl.ts', '../dsl.js']) {
    const path = join(here, candidate);
    if (existsSync(path)) return path;
  }
  return join(here, '../dsl.js');
}

const jiti = createJiti(import.meta.url, {
  alias: { diploid: packageEntry() },
  moduleCache: false,
  fsCache: false,
  interopDefault: true,
});

/** A config file that could not be evaluated: a syntax error or an exception while it ran. */
export class ModuleLoadError extends Error {
  constructor(readonly file: string, message: string, readonly line?: number) {
    super(message);
  }
}

/** Evaluates a JS/TS module and returns its default export. */
export async function loadModule(file: string): Promise<unknown> {
  try {
    return await jiti.import(file, { default: true });
  } catch (error) {
    const err = error as Error & { loc?: { line?: number } };
    const line = err.loc?.line ?? lineFromStack(err, file);
    const message = (err.message ?? String(error)).split('\n')[0]?.replace(file, '').replace(/^[:\s]+/, '') ?? 'failed to load';
    throw new ModuleLoadError(file, message, line);
  }
}

function lineFromStack(error: Error, file: string): number | undefined {
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${escaped}:(\\d+)`).exec(`${error.message}\n${error.stack ?? ''}`);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
