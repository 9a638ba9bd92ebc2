import type { ConfigProblem } from '../../errors.js';
import type { ResolvedApp } from '../../resolve/model.js';
import { joinPath } from '../../resolve/problems.js';
import { compileKubernetes } from './index.js';
import { validateObjects } from './validate.js';

/**
 * Compiles an environment and checks each object against the Kubernetes API schemas. What the
 * resolver's own rules missed is still caught before anything is applied, and reported at the
 * file of the service the object belongs to.
 */
export async function kubernetesSchemaProblems(app: ResolvedApp, configFile: string): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  const objects = compileKubernetes(app).objects;
  const byName = new Map(objects.map((object) => [`${object.kind}/${object.metadata.name}`, object]));
  for (const violation of await validateObjects(objects)) {
    const name = byName.get(violation.object)?.metadata.labels?.['app.kubernetes.io/name'];
    const service = app.services.find((candidate) => candidate.name === name);
    problems.push({
      file: service?.sources.at(-1) ?? configFile,
      path: service === undefined ? joinPath('environments', app.environment.name) : joinPath('services', service.name),
      message: `Kubernetes would refuse ${violation.object} in environment "${app.environment.name}": ${violation.message}`,
    });
  }
  return problems;
}
