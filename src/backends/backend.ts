import type { ResolvedApp } from '../resolve/model.js';

export type OutputFormat = 'yaml' | 'json';

/** A file a backend writes under `--out`. */
export interface RenderedFile {
  /** Relative path inside the output folder. */
  readonly path: string;
  readonly content: string;
}

export interface BackendOutput {
  /** Everything as one text, for standard output. */
  readonly stream: string;
  /** The same, split into files, for an output folder. */
  readonly files: readonly RenderedFile[];
  /** Settings the backend could not carry out, each naming the service and the setting. */
  readonly warnings: readonly string[];
}

/** A target platform. Backends read only the resolved model, never the user's config. */
export interface Backend {
  readonly name: string;
  /** Which port addresses between services name; pass it to `resolveApp` as `addressPorts`. */
  readonly addressPorts: 'service' | 'container';
  render(app: ResolvedApp, format: OutputFormat): BackendOutput;
}
