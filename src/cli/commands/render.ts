import { Command, Option } from 'commander';
import type { OutputFormat, RenderedFile } from '../../backends/index.js';
import type { SourceDocument } from '../../resolve/index.js';
import { BACKEND_NAMES, type BackendName } from '../../backends/names.js';
import { ConfigError, UserError } from '../../errors.js';
import { loadForCommand } from '../load.js';
import type { Output } from '../output.js';
import { writeOutputFolder } from '../write-folder.js';

interface RenderOptions {
  env?: string;
  backend: string;
  output: OutputFormat;
  out?: string;
  repos?: string;
}

export function registerRenderCommand(program: Command, output: Output): void {
  program
    .command('render')
    .description('Compile the ops repo into objects for a backend (Kubernetes by default).')
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .option('-e, --env <name>', 'environment to render (all when omitted)')
    .option('-b, --backend <name>', `target: ${BACKEND_NAMES.join(' or ')}`, 'kubernetes')
    .addOption(new Option('-o, --output <format>', 'format').choices(['yaml', 'json']).default('yaml'))
    .option('--out <dir>', 'write one file per object into this folder instead of standard output')
    .option('--repos <dir>', 'folder with one sub-folder per service repo, named as in repos')
    .action(async (opsDir: string, options: RenderOptions) => {
      if (!(BACKEND_NAMES as readonly string[]).includes(options.backend)) {
        const { suggestion } = await import('../../resolve/schema-errors.js');
        throw new UserError(`unknown backend "${options.backend}"${suggestion(options.backend, [...BACKEND_NAMES])}; choose ${BACKEND_NAMES.join(' or ')}`);
      }
      const [{ sources }, { backends }, { kubernetesBackend }, { kubernetesSchemaProblems }, { environmentNames, resolveApp }] = await loadAndImport(opsDir, options, output);
      const backend = backends[options.backend as BackendName];
      const environments = options.env === undefined ? environmentNames(sources) : [options.env];
      // Everything is rendered in memory first: a failure leaves no partial output behind.
      const apps = environments.map((environment) => resolveApp(sources, { environment, addressPorts: backend.addressPorts }));
      if (backend === kubernetesBackend) {
        // The same schemas the API server applies: a refusal found now, at its file, not at apply time.
        const problems = (await Promise.all(apps.map((app) => kubernetesSchemaProblems(app, sources.config.file)))).flat();
        if (problems.length > 0) throw new ConfigError(problems);
      }
      const rendered = apps.map((app) => ({ environment: app.environment.name, result: backend.render(app, options.output) }));
      for (const { result } of rendered) for (const warning of result.warnings) output.err(`warning: ${warning}\n`);
      if (options.out === undefined) {
        output.out(joinStreams(rendered.map(({ environment, result }) => ({ environment, stream: result.stream })), options.output));
        return;
      }
      const files: RenderedFile[] = rendered.flatMap(({ environment, result }) =>
        result.files.map((file) => (environments.length === 1 ? file : { path: `${environment}/${file.path}`, content: file.content })),
      );
      writeOutputFolder(options.out, files);
      output.err(`wrote ${files.length} files to ${options.out}\n`);
    });
}

/**
 * Loads the ops repo while the modules that resolve, check and render load. The sandbox gets the
 * repo's files first: the imports start once it evaluates the service files (the first result is
 * in) or once loading is done, whichever comes first, so they do not hold back sending the files.
 * The validators of the common kinds load with them, and each service file is validated as its
 * result arrives (once the resolver is in), so that resolving finds it validated: all on this
 * core while the sandbox works on the other.
 */
async function loadAndImport(opsDir: string, options: RenderOptions, output: Output) {
  let imports: ReturnType<typeof importModules> | undefined;
  const start = () => (imports ??= importModules(options.backend));
  const arrived: SourceDocument[] = [];
  let prevalidate: ((document: SourceDocument) => void) | undefined;
  const warm = (document: SourceDocument) => {
    try {
      prevalidate?.(document);
    } catch {
      // Only a head start: resolveApp validates every document again and reports what fails.
    }
  };
  const announce = (document: SourceDocument) => {
    if (imports === undefined) {
      void start()[3].then((module) => {
        prevalidate = module.prevalidateServiceDocument;
        for (const early of arrived.splice(0)) warm(early);
      }, () => {});
    }
    if (prevalidate === undefined) arrived.push(document);
    else warm(document);
  };
  const loaded = await loadForCommand(opsDir, options.repos, output, announce);
  const [backends, kubernetes, schemaProblems, resolver, validators] = start();
  return Promise.all([loaded, backends, kubernetes, schemaProblems, resolver, validators] as const);
}

function importModules(backend: string) {
  const modules = [
    import('../../backends/index.js'),
    import('../../backends/kubernetes/backend.js'),
    import('../../backends/kubernetes/schema-problems.js'),
    import('../../resolve/index.js'),
    backend === 'kubernetes' ? import('../../backends/kubernetes/validate.js').then((module) => module.preloadValidators()) : Promise.resolve(),
  ] as const;
  // Should loading fail first, nobody awaits these: a failure of theirs must not end the process unreported.
  for (const module of modules) module.catch(() => {});
  return modules;
}

/** One YAML stream of all documents, or, in JSON, one object keyed by environment. */
function joinStreams(streams: ReadonlyArray<{ environment: string; stream: string }>, format: OutputFormat): string {
  if (streams.length === 1) return streams[0]?.stream ?? '';
  if (format === 'yaml') return streams.map(({ stream }) => stream).join('---\n');
  return `${JSON.stringify(Object.fromEntries(streams.map(({ environment, stream }) => [environment, JSON.parse(stream) as unknown])), null, 2)}\n`;
}
