import type { Backend, BackendOutput, OutputFormat } from '../backend.js';
import { serialize, toYaml } from '../serialize.js';
import type { ResolvedApp } from '../../resolve/model.js';
import { compileKubernetes } from './index.js';

export const kubernetesBackend: Backend = {
  name: 'kubernetes',
  render(app: ResolvedApp, format: OutputFormat): BackendOutput {
    const { objects, warnings } = compileKubernetes(app);
    const stream = format === 'json' ? serialize({ apiVersion: 'v1', kind: 'List', items: objects }, 'json') : objects.map((object) => toYaml(object)).join('---\n');
    const width = String(objects.length).length;
    const files = objects.map((object, index) => ({
      path: `${String(index + 1).padStart(width, '0')}-${object.kind.toLowerCase()}-${object.metadata.name}.${format}`,
      content: serialize(object, format),
    }));
    return { stream, files, warnings };
  },
};
