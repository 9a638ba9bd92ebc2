// Bundles the CLI into dist/bundle/ (run by `npm run build` after tsc): one ESM entry, `main.js`,
// and a chunk per lazily imported command module, so `diploid render` still never loads the
// Kubernetes client. Loading the controller from some 2,500 separate modules of client-node's
// generated models cost about 0.4 s and 50 MiB of resident memory that one file does not
// (README, "The build").
//
// What stays outside the bundle, as tsc's output in dist/: the evaluation sandbox's child
// (`dist/sources/sandbox/child.js`, started as a process of its own) and the DSL files it reads
// into its V8 context (`dist/dsl.js` and what it imports). The bundle sits two folders below the
// package root like every source file's `import.meta.url` of depth two, so `../../package.json`
// still names the package's manifest.
//   node scripts/bundle.mjs [--metafile FILE]
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const metafileAt = process.argv.indexOf('--metafile');

// Chunks are named by content hash: the ones of an earlier build would stay beside the new ones.
rmSync(join(root, 'dist/bundle'), { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Identifiers are kept (a stack trace names diploid's own functions); syntax and whitespace are
  // minified: V8 keeps every loaded script's source, and the controller started at 79-86 MiB
  // instead of 98 with whitespace kept (README, "The build").
  minifySyntax: true,
  minifyWhitespace: true,
  // A map beside each file: `NODE_OPTIONS=--enable-source-maps` makes a trace point at src/*.ts.
  // Not on by default: it cost the controller 15 MiB more at start.
  sourcemap: 'linked',
  sourcesContent: false,
  // Some dependencies are CommonJS and call require() at run time (node's own modules).
  banner: { js: "import { createRequire as __diploidCreateRequire } from 'node:module'; const require = __diploidCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
if (metafileAt !== -1) writeFileSync(process.argv[metafileAt + 1], JSON.stringify(result.metafile));

// Which packages each file of the bundle holds (`.` for diploid's own code), for people reading a
// stack trace or a process's open files, and for the test that `render` leaves the Kubernetes
// client unloaded.
const packages = {};
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.js')) continue;
  const names = new Set(Object.keys(output.inputs).map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? '.'));
  packages[file.slice('dist/bundle/'.length)] = [...names].sort();
}
writeFileSync(join(root, 'dist/bundle/packages.json'), `${JSON.stringify(packages, null, 1)}\n`);
