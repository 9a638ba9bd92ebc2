import type { KubeObject } from './objects.js';

interface ValidatingModel {
  validate(): void;
}
type ModelClass = new (data: unknown) => ValidatingModel;

/** Module of the `kubernetes-models` class for an apiVersion and kind. */
function modelModule(apiVersion: string, kind: string): string {
  if (apiVersion.startsWith('gateway.networking.k8s.io/')) return `@kubernetes-models/gateway-api/${apiVersion}/${kind}`;
  if (apiVersion.startsWith('traefik.io/')) return `@kubernetes-models/traefik/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** A problem of one object against the Kubernetes API schema. */
export interface SchemaViolation {
  readonly object: string;
  readonly message: string;
}

/**
 * Checks objects against the Kubernetes OpenAPI schemas (through `kubernetes-models`), so an
 * object the API server would refuse is caught before anything is applied.
 */
export async function validateObjects(objects: readonly KubeObject[]): Promise<SchemaViolation[]> {
  const violations: SchemaViolation[] = [];
  for (const object of objects) {
    const name = `${object.kind}/${object.metadata.name}`;
    let Model: ModelClass;
    try {
      const module = (await import(modelModule(object.apiVersion, object.kind))) as Record<string, ModelClass>;
      const found = module[object.kind];
      if (found === undefined) throw new Error('no model class');
      Model = found;
    } catch {
      violations.push({ object: name, message: `no schema known for ${object.apiVersion} ${object.kind}` });
      continue;
    }
    try {
      new Model(structuredClone(object)).validate();
    } catch (error) {
      violations.push({ object: name, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return violations;
}
