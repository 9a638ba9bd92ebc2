/**
 * The evaluation sandbox: a process of its own that diploid starts with an empty environment,
 * Node's permission model (it may read only diploid's own code: no other file, no writes, no
 * child processes, no workers) and a memory cap. Inside it, repo files run in a fresh V8 context
 * that holds nothing from this process: no `process`, no `require`, no timers, no network API, no
 * code generation from strings. A file may import `diploid` and files of its own tree, which the
 * parent sends on request; nothing else. What crosses back is plain data, copied without running
 * the file's code (see `plain-data.ts`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import vm from 'node:vm';
import { NotPlainData, toPlainData, type Realm } from './plain-data.js';
import type { ChildMessage, ChildSettings, ParentMessage } from './protocol.js';

/** Set by the parent's `settings` message, which comes before any file. */
let settings: ChildSettings = { label: '', timeMs: 0 };
const distRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

// A null-prototype global: nothing in the context leads back to this process's own objects.
const context = vm.createContext(Object.create(null) as object, { name: 'diploid sandbox', codeGeneration: { strings: false, wasm: false } });
vm.runInContext('delete globalThis.console;', context);
const realm = vm.runInContext('({ objectPrototype: Object.prototype, arrayPrototype: Array.prototype })', context) as Realm;

function send(message: ChildMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

// ---- files of the tree, asked of the parent -------------------------------------------------

const pendingReads = new Map<string, Array<(text: string | null) => void>>();
const sources = new Map<string, string | null>();

function readTreeFile(path: string): Promise<string | null> {
  if (sources.has(path)) return Promise.resolve(sources.get(path) ?? null);
  return new Promise((resolve) => {
    const waiting = pendingReads.get(path);
    if (waiting !== undefined) return waiting.push(resolve);
    pendingReads.set(path, [resolve]);
    send({ op: 'read', path });
  });
}

// ---- modules ----------------------------------------------------------------------------------

/** A module error meant for the user: the message is shown as is, located at the importing file. */
class ImportProblem extends Error {}

const DIPLOID_PREFIX = 'diploid:';
const treeModules = new Map<string, Promise<vm.Module>>();
const diploidModules = new Map<string, vm.Module>();
const readsByModule = new Map<vm.Module, string>();
const importsByModule = new Map<vm.Module, Set<vm.Module>>();

/** diploid's own DSL (`dist/dsl.js` and what it imports), evaluated inside the context. */
function diploidModule(file: string): vm.Module {
  let module = diploidModules.get(file);
  if (module === undefined) {
    module = new vm.SourceTextModule(readFileSync(join(distRoot, file), 'utf8'), { context, identifier: `${DIPLOID_PREFIX}${file}` });
    diploidModules.set(file, module);
  }
  return module;
}

const TYPESCRIPT = /\.(?:ts|mts|cts)$/;
const EXTENSIONS = ['.js', '.mjs', '.ts', '.mts', '.json'];

/** The tree paths an import may mean, in the order Node and TypeScript would try them. */
function candidates(path: string): string[] {
  const list = [path];
  if (/\.m?js$/.test(path)) list.push(path.replace(/js$/, 'ts'));
  if (!/\.[a-z]+$/.test(path)) list.push(...EXTENSIONS.map((extension) => path + extension), ...EXTENSIONS.map((extension) => `${path}/index${extension}`));
  return list;
}

function treeModule(path: string): Promise<vm.Module> {
  let module = treeModules.get(path);
  if (module === undefined) {
    module = compileTreeModule(path);
    treeModules.set(path, module);
  }
  return module;
}

async function compileTreeModule(path: string): Promise<vm.Module> {
  const text = await readTreeFile(path);
  if (text === null) throw new ImportProblem(`${path} is not a file of this commit`);
  const identifier = settings.label + path;
  let module: vm.Module;
  if (path.endsWith('.json')) {
    const value = JSON.parse(text) as unknown;
    const copy = vm.runInContext('(text) => JSON.parse(text)', context) as (text: string) => unknown;
    module = new vm.SyntheticModule(['default'], function (this: vm.SyntheticModule) { this.setExport('default', copy(JSON.stringify(value))); }, { context, identifier });
  } else {
    const code = TYPESCRIPT.test(path) ? stripTypes(text, path) : text;
    module = new vm.SourceTextModule(code, { context, identifier });
  }
  readsByModule.set(module, path);
  return module;
}

const require = createRequire(import.meta.url);
let sucrase: typeof import('sucrase') | undefined;
/** TypeScript to JavaScript with the same lines, so errors point at the line the user wrote. */
function stripTypes(text: string, path: string): string {
  sucrase ??= require('sucrase') as typeof import('sucrase');
  return sucrase.transform(text, { transforms: ['typescript'], filePath: path, disableESTransforms: true, keepUnusedImports: false }).code;
}

async function link(specifier: string, referencing: vm.Module): Promise<vm.Module> {
  if (referencing.identifier.startsWith(DIPLOID_PREFIX)) {
    return diploidModule(posix.join(posix.dirname(referencing.identifier.slice(DIPLOID_PREFIX.length)), specifier));
  }
  if (specifier === 'diploid') return diploidModule('dsl.js');
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
    throw new ImportProblem(`cannot import "${specifier}": a diploid file may import 'diploid' and files of its own repo (./ or ../), nothing else`);
  }
  const from = readsByModule.get(referencing) ?? '';
  const target = posix.normalize(posix.join(posix.dirname(from), specifier));
  if (target.startsWith('../') || target === '..') throw new ImportProblem(`cannot import "${specifier}": it is outside the repo`);
  for (const candidate of candidates(target)) {
    if ((await readTreeFile(candidate)) === null) continue;
    const module = await treeModule(candidate);
    const imports = importsByModule.get(referencing) ?? new Set();
    importsByModule.set(referencing, imports.add(module));
    return module;
  }
  throw new ImportProblem(`cannot import "${specifier}": ${target} is not a file of this commit`);
}

// ---- evaluation -------------------------------------------------------------------------------

class Timeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Timeout()), ms)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** The tree files a module and everything it imports were made from: what its result depends on. */
function readsOf(module: vm.Module, seen = new Set<vm.Module>()): string[] {
  if (seen.has(module)) return [];
  seen.add(module);
  const own = readsByModule.get(module);
  const imported = [...(importsByModule.get(module) ?? [])].flatMap((child) => readsOf(child, seen));
  return [...(own === undefined ? [] : [own]), ...imported];
}

async function evaluate(path: string, watchdog: boolean): Promise<ChildMessage> {
  const started = Date.now();
  const remaining = () => Math.max(1, settings.timeMs - (Date.now() - started));
  try {
    const module = await treeModule(path);
    if (module.status === 'unlinked') await module.link(link);
    // Without the watchdog, an endless loop is stopped by the parent, which kills this process and asks again with it.
    if (module.status === 'linked') await withTimeout(module.evaluate(watchdog ? { timeout: remaining() } : {}), remaining());
    if (module.status === 'errored') throw module.error;
    const namespace = module.namespace as Record<string, unknown>;
    let value: unknown = Object.getOwnPropertyDescriptor(namespace, 'default')?.value;
    if (!Object.prototype.hasOwnProperty.call(namespace, 'default')) return failed(path, 'has no default export: export the config or service with `export default`');
    if (types.isPromise(value) && !types.isProxy(value)) value = await withTimeout(Promise.resolve().then(() => awaitContextPromise(value as Promise<unknown>)), remaining());
    if (value === undefined) return failed(path, 'its default export is undefined: export the config or service with `export default`');
    return { op: 'done', path, value: toPlainData(value, realm), reads: readsOf(module) };
  } catch (thrown) {
    return describeFailure(path, thrown);
  }
}

/** Awaits a promise of the context's with this realm's `then`, so no `then` of the file's runs here. */
function awaitContextPromise(promise: Promise<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => Promise.prototype.then.call(promise, resolve, reject));
}

function failed(path: string, message: string, line?: number): ChildMessage {
  return { op: 'failed', path, message, ...(line === undefined ? {} : { line }) };
}

/** A readable message for anything a file may throw, read without running the file's code. */
function describeFailure(path: string, thrown: unknown): ChildMessage {
  if (thrown instanceof Timeout) return failed(path, `did not finish within ${settings.timeMs} ms (an endless loop, or a promise that never settles?)`);
  if (thrown instanceof ImportProblem) return failed(path, thrown.message);
  if (thrown instanceof NotPlainData) return failed(path, `its default export is not plain data: ${thrown.path === '' ? thrown.reason : `${thrown.path}: ${thrown.reason}`}`);
  if (thrown === null || thrown === undefined) return failed(path, `threw ${String(thrown)}`);
  if (typeof thrown !== 'object') return failed(path, `threw ${typeof thrown === 'string' ? JSON.stringify(thrown.slice(0, 500)) : typeof thrown}`);
  if (types.isProxy(thrown)) return failed(path, 'threw a Proxy');
  const code = dataProperty(thrown, 'code');
  if (code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return failed(path, `did not finish within ${settings.timeMs} ms (an endless loop?)`);
  const message = dataProperty(thrown, 'message');
  const stack = dataProperty(thrown, 'stack');
  const name = dataProperty(thrown, 'name') ?? protoName(thrown);
  const text = typeof message === 'string' ? message.split('\n')[0]!.slice(0, 500) : 'threw a value that is not an Error';
  const line = lineFromStack(typeof stack === 'string' ? stack : '', path) ?? (name === 'SyntaxError' ? syntaxLine(thrown, path) : undefined);
  return failed(path, text, line);
}

function dataProperty(object: object, key: string): unknown {
  for (let current: object | null = object, depth = 0; current !== null && depth < 8; depth++) {
    if (types.isProxy(current)) return undefined;
    const descriptor = Object.getOwnPropertyDescriptor(current, key);
    if (descriptor !== undefined) return 'value' in descriptor ? descriptor.value : undefined;
    current = Object.getPrototypeOf(current) as object | null;
  }
  return undefined;
}

function protoName(object: object): unknown {
  const prototype = Object.getPrototypeOf(object) as object | null;
  return prototype === null ? undefined : dataProperty(prototype, 'name');
}

/** V8 does not say where a module's syntax error is; sucrase's parser does, on this path only. */
function syntaxLine(thrown: object, path: string): number | undefined {
  const loc = dataProperty(thrown, 'loc') as { line?: unknown } | undefined;
  if (typeof loc?.line === 'number') return loc.line;
  const text = sources.get(path);
  if (typeof text !== 'string') return undefined;
  try {
    stripTypes(text, TYPESCRIPT.test(path) ? path : `${path}.ts`);
    return undefined;
  } catch (error) {
    const line = (error as { loc?: { line?: unknown } }).loc?.line;
    return typeof line === 'number' ? line : undefined;
  }
}

function lineFromStack(stack: string, path: string): number | undefined {
  const name = (settings.label + path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${name}:(\\d+)`).exec(stack);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

// ---- the loop ---------------------------------------------------------------------------------

let queue: Promise<void> = Promise.resolve();
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  const message = JSON.parse(line) as ParentMessage;
  if (message.op === 'settings') {
    settings = { label: message.label, timeMs: message.timeMs };
    return;
  }
  if (message.op === 'source') {
    sources.set(message.path, message.text);
    const waiting = pendingReads.get(message.path) ?? [];
    pendingReads.delete(message.path);
    for (const resolve of waiting) resolve(message.text);
    return;
  }
  if (!sources.has(message.path)) sources.set(message.path, message.text);
  queue = queue.then(async () => send(await evaluate(message.path, message.watchdog === true)));
});
lines.on('close', () => void queue.then(() => process.exit(0)));
send({ op: 'ready' });
