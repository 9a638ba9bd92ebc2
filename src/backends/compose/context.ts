import type { ResolvedApp } from '../../resolve/model.js';
import { literal, variableName } from './text.js';
import type { ComposeTopVolume } from './types.js';

/**
 * Text compose interpolates on purpose (`${BACKEND_DIR:-../backend}`), as opposed to every
 * other string, whose `$` signs are escaped when the file is finished.
 */
export class Interpolated {
  constructor(readonly text: string) {}
}

/** What the user must provide before `docker compose up`; listed at the top of the file. */
export interface Inputs {
  /** Variable -> default path of each repo's checkout, for build contexts. */
  readonly repos: Map<string, string>;
  /** Variable -> `secret/key` of each secret passed as an environment variable. */
  readonly secretVariables: Map<string, string>;
  /** Path of each secret read from a file, by compose secret name. */
  readonly secretFiles: Map<string, string>;
}

/** Folder of secret files: `DIPLOID_SECRETS_DIR`, by default `secrets` beside the compose file. */
export const SECRETS_DIR = '${DIPLOID_SECRETS_DIR:-./secrets}';

/**
 * Shared state of one compilation: top-level configs, secrets and volumes the services ask
 * for, the inputs the user must provide, and warnings. Every collection is sorted on output.
 */
export class ComposeContext {
  readonly configs = new Map<string, string>();
  readonly volumes = new Map<string, ComposeTopVolume>();
  readonly inputs: Inputs = { repos: new Map(), secretVariables: new Map(), secretFiles: new Map() };
  /** Warnings by `setting: message`, each with the services it concerns, in first-seen order. */
  private readonly warningList = new Map<string, { readonly services: string[]; readonly app: boolean }>();

  constructor(readonly app: ResolvedApp) {}

  /**
   * A setting compose cannot carry out, reported once. `service` is omitted for app-wide
   * settings. The same warning for several services is one line naming them all.
   */
  warn(service: string | undefined, setting: string, message: string): void {
    const text = `${setting}: ${message}`;
    const entry = this.warningList.get(text) ?? { services: [], app: false };
    this.warningList.set(text, service === undefined ? { ...entry, app: true } : entry);
    if (service !== undefined && !entry.services.includes(service)) entry.services.push(service);
  }

  get warnings(): readonly string[] {
    return [...this.warningList.entries()].flatMap(([text, { services, app }]) => {
      const lines = app ? [text] : [];
      if (services.length === 1) lines.push(`service "${services[0]}": ${text}`);
      else if (services.length > 1) lines.push(`services ${services.map((name) => `"${name}"`).join(', ')}: ${text}`);
      return lines;
    });
  }

  /** The build context of a repo's folder: `${BACKEND_DIR:-../backend}/api`. */
  repoPath(repo: string, path: string): Interpolated {
    const fallback = `../${repo}`;
    const variable = unique(this.inputs.repos, variableName(repo, 'DIR'), fallback);
    this.inputs.repos.set(variable, fallback);
    const base = `\${${variable}:-${literal(fallback)}}`;
    return new Interpolated(path === '.' ? base : `${base}/${literal(path)}`);
  }

  /**
   * An environment variable's value from a secret. Compose cannot read a file into an
   * environment variable, so the value comes from the environment of `docker compose` itself
   * (the shell or an env file); `:?` stops compose when it is missing.
   */
  secretVariable(secret: string, key: string): Interpolated {
    const variable = unique(this.inputs.secretVariables, variableName(secret, key), `${secret}/${key}`);
    this.inputs.secretVariables.set(variable, `${secret}/${key}`);
    return new Interpolated(`\${${variable}:?set ${variable} to key ${literal(key)} of secret ${literal(secret)}}`);
  }

  /** A compose secret read from `<secrets dir>/<secret>/<key>`; returns its name. */
  secretFile(secret: string, key: string): string {
    const name = `${secret}.${key}`;
    this.inputs.secretFiles.set(name, `${secret}/${key}`);
    return name;
  }

  addConfig(name: string, content: string): void {
    this.configs.set(name, content);
  }

  addVolume(name: string): void {
    this.volumes.set(name, {});
  }
}

/** `NAME`, or `NAME_2`, ... when `NAME` already stands for something else (`a-b/c` and `a/b-c`). */
function unique(taken: ReadonlyMap<string, string>, name: string, meaning: string): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate) && taken.get(candidate) !== meaning; n++) candidate = `${name}_${n}`;
  return candidate;
}
