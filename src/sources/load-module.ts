import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { constants, Script } from 'node:vm';
import { createJiti, type Jiti } from 'jiti';

/**
 * Config and service files are evaluated in two ways:
 *
 * - `.js` and `.mjs` with Node's own `import()`. Loading 1000 service files this way takes a few
 *   hundred milliseconds, where transforming each through jiti's Babel took 15 seconds.
 * - `.ts`, `.mts` and `.cts` through jiti, which strips the types.
 *
 * Either way `import ... from 'diploid'` resolves without an install in the ops repo: to the
 * typing helpers of the diploid that is running (`dsl.ts`), through a resolve hook for native
 * imports and an alias for jiti. Every call evaluates the file afresh, with the relative imports
 * it makes: a version tag in the URL (`?diploid-load=N`) keeps Node's module cache from handing
 * back what an earlier call loaded. Node never frees a loaded module, so a process that loads
 * again and again (a controller) should do so in a worker or child process it can end.
 */

/** Where jiti points `import ... from 'diploid'`: the sources (tests) or the build. */
function packageEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of ['../dsl.ts', '../dsl.js']) {
    const path = join(here, candidate);
    if (existsSync(path)) return path;
  }
  return join(here, '../dsl.js');
}

let jiti: Jiti | undefined;
function typescriptLoader(): Jiti {
  jiti ??= createJiti(import.meta.url, {
    alias: { diploid: packageEntry() },
    moduleCache: false,
    fsCache: false,
    interopDefault: true,
  });
  return jiti;
}

const NATIVE_EXTENSIONS = new Set(['.js', '.mjs']);
const API_KEY = Symbol.for('diploid.dsl');
const VERSION_PARAM = 'diploid-load';

/**
 * Module hooks, run by Node on its loader thread. `diploid` becomes a module re-exporting the
 * helpers this process loaded (so both sides share one instance, from the sources or the build);
 * a file loaded with a version tag passes the tag on to the files it imports, outside
 * node_modules, so that they too are evaluated afresh. Written out as a `data:` URL because the
 * loader thread runs plain JavaScript, also when diploid itself runs from TypeScript sources.
 */
const HOOKS = `
import { readFileSync } from 'node:fs';
let names = [];
export function initialize(data) { names = data.names; }
const tag = /[?&]${VERSION_PARAM}=(\\d+)/;
export async function resolve(specifier, context, next) {
  if (specifier === 'diploid') return { url: 'diploid:dsl', shortCircuit: true };
  const result = await next(specifier, context);
  const version = context.parentURL === undefined ? null : tag.exec(context.parentURL);
  if (version === null || !result.url.startsWith('file:') || result.url.includes('?') || result.url.includes('/node_modules/')) return result;
  return { ...result, url: result.url + '?${VERSION_PARAM}=' + version[1] };
}
export async function load(url, context, next) {
  if (url !== 'diploid:dsl') {
    // Config files use import/export: they are modules, also in a folder whose package.json
    // has no "type" (Node would read them as CommonJS first, then warn and read them again).
    if (!tag.test(url) || !/\\.js\\?/.test(url)) return next(url, context);
    const source = readFileSync(new URL(url), 'utf8');
    return /^[ \\t]*(?:import[\\s{*'"]|export[\\s{*])/m.test(source) ? { format: 'module', source, shortCircuit: true } : next(url, context);
  }
  const source = 'const api = globalThis[Symbol.for(' + JSON.stringify('diploid.dsl') + ')];\\n'
    + names.map((name) => 'export const ' + name + ' = api.' + name + ';').join('\\n') + '\\nexport default api;\\n';
  return { format: 'module', source, shortCircuit: true };
}
`;

let hooks: Promise<void> | undefined;
function nativeLoader(): Promise<void> {
  hooks ??= (async () => {
    const dsl = (await import('../dsl.js')) as Record<string, unknown>;
    (globalThis as Record<symbol, unknown>)[API_KEY] = { ...dsl };
    register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { names: Object.keys(dsl) } });
  })();
  return hooks;
}

/**
 * Node's own `import()`. From the build that is plain `import()`; from the TypeScript sources it
 * is compiled apart, out of reach of vitest, which rewrites `import()` in the sources it runs
 * and would resolve config files with Vite instead of the hooks above.
 */
const nativeImport: (url: string) => Promise<Record<string, unknown>> =
  import.meta.url.endsWith('.ts') && constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER !== undefined
    ? new Script('(url) => import(url)', { filename: fileURLToPath(import.meta.url), importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext()
    : (url) => import(url);

let version = 0;
let reclaimable = false;

/**
 * For long-running processes (the controller): evaluate every file through jiti, whose modules
 * the garbage collector can free, instead of Node's `import()`, whose modules live as long as
 * the process. Slower per load, but memory stays flat over thousands of reconciles.
 */
export function preferReclaimableLoading(): void {
  reclaimable = true;
}

/** A config file that could not be evaluated: a syntax error or an exception while it ran. */
export class ModuleLoadError extends Error {
  constructor(readonly file: string, message: string, readonly line?: number) {
    super(message);
  }
}

/** Evaluates a JS/TS module and returns its default export. */
export async function loadModule(file: string): Promise<unknown> {
  try {
    if (reclaimable || !NATIVE_EXTENSIONS.has(extname(file))) return await typescriptLoader().import(file, { default: true });
    await nativeLoader();
    const url = `${pathToFileURL(file).href}?${VERSION_PARAM}=${++version}`;
    const module = await nativeImport(url);
    // As jiti does: the default export, or the namespace of a module that has none.
    return 'default' in module ? module.default : module;
  } catch (thrown) {
    const error = thrown instanceof SyntaxError && NATIVE_EXTENSIONS.has(extname(file)) ? await locatedSyntaxError(file, thrown) : thrown;
    const err = error as Error & { loc?: { line?: number } };
    const line = err.loc?.line ?? lineFromStack(err, file);
    const firstLine = (err.message ?? String(error)).split('\n')[0] ?? 'failed to load';
    const message = untag(firstLine).replace(file, '').replace(/^[:\s]+/, '');
    throw new ModuleLoadError(file, message || 'failed to load', line);
  }
}

/**
 * Node does not tell where in the file a syntax error is (it keeps that to print it itself), so
 * the file goes through jiti's parser, which does; only on this path, never when a file loads.
 */
async function locatedSyntaxError(file: string, error: SyntaxError): Promise<unknown> {
  try {
    await typescriptLoader().import(file, { default: true });
    return error;
  } catch (located) {
    return located;
  }
}

function untag(text: string): string {
  return text.replace(new RegExp(`\\?${VERSION_PARAM}=\\d+`, 'g'), '');
}

/** The line in `file` that a syntax error or a thrown exception points at, by path or URL. */
function lineFromStack(error: Error, file: string): number | undefined {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const names = `(?:${escape(file)}|${escape(pathToFileURL(file).href)})`;
  const match = new RegExp(`${names}(?:\\?${VERSION_PARAM}=\\d+)?:(\\d+)`).exec(`${error.message}\n${error.stack ?? ''}`);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
