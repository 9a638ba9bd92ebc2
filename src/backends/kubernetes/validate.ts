import type { KubeObject } from './objects.js';

interface ValidatingModel {
  validate(this: unknown): void;
}
type ModelClass = { readonly prototype: ValidatingModel };

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
 * Model classes by module, loaded once: a dynamic `import()` per object cost ten times the
 * validation itself (0.6 s of 0.65 s for 4000 objects).
 */
const models = new Map<string, Promise<ModelClass | undefined>>();

function modelClass(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const module = modelModule(apiVersion, kind);
  let found = models.get(module);
  if (found === undefined) {
    found = import(module).then(
      (loaded: Record<string, ModelClass>) => loaded[kind],
      () => undefined,
    );
    models.set(module, found);
  }
  return found;
}

/**
 * Checks objects against the Kubernetes OpenAPI schemas (through `kubernetes-models`), so an
 * object the API server would refuse is caught before anything is applied.
 */
export async function validateObjects(objects: readonly KubeObject[]): Promise<SchemaViolation[]> {
  const violations: SchemaViolation[] = [];
  for (const object of objects) {
    const name = `${object.kind}/${object.metadata.name}`;
    const Model = await modelClass(object.apiVersion, object.kind);
    if (Model === undefined) {
      violations.push({ object: name, message: `no schema known for ${object.apiVersion} ${object.kind}` });
      continue;
    }
    try {
      // The model's validator run on the object itself: the generated validators only read (no
      // defaults are filled in) and skip undefined fields as the model's own copy would drop them,
      // so copying each object into a model instance first (most of the time spent here) changed
      // nothing but the cost.
      Model.prototype.validate.call(object);
    } catch (error) {
      violations.push({ object: name, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return violations;
}

/** The kinds a web service renders to by default (with the namespace), whose validators `preloadValidators` loads. */
export const COMMON_KINDS: ReadonlyArray<readonly [apiVersion: string, kind: string]> = [
  ['v1', 'Namespace'],
  ['v1', 'ConfigMap'],
  ['v1', 'Service'],
  ['apps/v1', 'Deployment'],
  ['networking.k8s.io/v1', 'Ingress'],
];

/**
 * Loads the validators of these kinds ahead of validation: about 70 ms of module loading for the
 * common kinds, which `render` runs while the sandbox evaluates the repo's files on the other core.
 */
export async function preloadValidators(kinds: ReadonlyArray<readonly [apiVersion: string, kind: string]> = COMMON_KINDS): Promise<void> {
  await Promise.all(kinds.map(([apiVersion, kind]) => modelClass(apiVersion, kind)));
}
