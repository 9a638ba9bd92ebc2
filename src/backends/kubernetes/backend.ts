import type { Backend, BackendOutput, OutputFormat } from '../backend.js';
import { serialize } from '../serialize.js';
import type { ResolvedApp } from '../../resolve/model.js';
import { compileKubernetes } from './index.js';

export const kubernetesBackend: Backend = {
  name: 'kubernetes',
  addressPorts: 'service',
  render(app: ResolvedApp, format: OutputFormat): BackendOutput {
    const { objects, warnings } = compileKubernetes(app);
    // Each object is serialized once: the YAML stream is the files' contents joined.
    const contents = objects.map((object) => serialize(object, format));
    const stream = format === 'json' ? serialize({ apiVersion: 'v1', kind: 'List', items: objects }, 'json') : contents.join('---\n');
    const width = String(objects.length).length;
    const files = objects.map((object, index) => ({
      path: `${String(index + 1).padStart(width, '0')}-${object.kind.toLowerCase()}-${object.metadata.name}.${format}`,
      content: contents[index]!,
    }));
    return { stream, files, warnings };
  },
};
