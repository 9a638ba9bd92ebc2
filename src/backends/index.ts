import type { Backend } from './backend.js';
import { composeBackend } from './compose/backend.js';
import { kubernetesBackend } from './kubernetes/backend.js';
import type { BackendName } from './names.js';

export type { Backend, BackendOutput, OutputFormat, RenderedFile } from './backend.js';

/** Every backend `render --backend` accepts, by name. */
export const backends: Readonly<Record<BackendName, Backend>> = {
  kubernetes: kubernetesBackend,
  compose: composeBackend,
};
