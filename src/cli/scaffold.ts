import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ScaffoldOptions {
  /** The project's name: a DNS label. */
  readonly project: string;
  /** What package.json depends on for `diploid`: a version range, or `file:` / a git URL. */
  readonly diploid: string;
}

/** The version of this diploid, which a new ops repo depends on by default. */
export function ownVersion(): string {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
  return `^${manifest.version}`;
}

/**
 * The files of a new ops repo, by path. Editors type-check it once `npm install` has run:
 * `diploid` is a dependency (so `import ... from 'diploid'` resolves to its types), jsconfig
 * turns on checking for the JavaScript files, and each file also says `// @ts-check`.
 */
export function scaffoldOpsRepo(options: ScaffoldOptions): Record<string, string> {
  const packageJson = {
    name: `${options.project}-ops`,
    private: true,
    type: 'module',
    scripts: { validate: 'diploid validate .', render: 'diploid render . --env production' },
    dependencies: { diploid: options.diploid },
  };
  const jsconfig = {
    compilerOptions: { checkJs: true, strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: true },
    include: ['.diploid.conf.js', 'services/**/*.js', 'lib/**/*.js'],
  };
  return {
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'jsconfig.json': `${JSON.stringify(jsconfig, null, 2)}\n`,
    '.gitignore': 'node_modules/\n',
    '.diploid.conf.js': `// @ts-check
import { defineConfig } from 'diploid';

export default defineConfig({
  project: '${options.project}',
  ingress: { domain: '${options.project}.example.com' },
  environments: { production: {} },
});
`,
    'services/hello.js': `// @ts-check
import { defineService } from 'diploid';

export default defineService({
  name: 'hello',
  image: 'nginxinc/nginx-unprivileged:1.27-alpine',
  port: 8080,
  health: { http: '/' },
  routes: ['hello'],
});
`,
  };
}
