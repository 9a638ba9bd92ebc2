/**
 * Add-on manifests in the order a fresh cluster needs them. Pure.
 *
 * 1. definitions: Namespaces and CustomResourceDefinitions, then wait until each CRD is Established;
 * 2. controllers: every object of a built-in kind (RBAC, Services, Deployments, webhooks...),
 *    then wait until each Deployment is Available;
 * 3. resources: custom resources, whose kinds phase 1 (or an earlier install) defined.
 *
 * Applying a custom resource before its CRD is Established, or before the controller whose
 * webhook validates it is Available, is what fails on a fresh cluster.
 */
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { ConfigError, type ConfigProblem } from '../errors.js';

export type AddonPhase = 'definitions' | 'controllers' | 'resources';

/** An add-on object and where it came from (a file of the add-ons folder, or a URL). */
export interface AddonObject {
  readonly source: string;
  readonly object: KubeObject;
}

export interface OrderedAddons {
  readonly definitions: readonly AddonObject[];
  readonly controllers: readonly AddonObject[];
  readonly resources: readonly AddonObject[];
}

/** API groups Kubernetes serves itself; anything else is a custom resource. */
const BUILT_IN_GROUPS = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'rbac.authorization.k8s.io', 'storage.k8s.io',
  'admissionregistration.k8s.io', 'apiextensions.k8s.io', 'apiregistration.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io',
  'discovery.k8s.io', 'node.k8s.io', 'certificates.k8s.io', 'flowcontrol.apiserver.k8s.io', 'events.k8s.io', 'resource.k8s.io',
]);

/** Within the controllers phase: what others refer to first, webhooks last (their Service must answer). */
const CONTROLLER_ORDER = [
  'PriorityClass', 'StorageClass', 'ServiceAccount', 'ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding', 'ConfigMap', 'Secret',
  'PersistentVolumeClaim', 'Service', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'PodDisruptionBudget', 'IngressClass',
  'APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
];

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/** The objects of a multi-document YAML manifest; `List` kinds are flattened, empty documents skipped. */
export function parseManifest(text: string, source: string): AddonObject[] {
  const problems: ConfigProblem[] = [];
  const objects: AddonObject[] = [];
  const add = (value: unknown, path: string, line: number | undefined) => {
    const object = value as Partial<KubeObject> | null;
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      problems.push({ file: source, path, message: 'expected a Kubernetes object (a map with apiVersion, kind and metadata.name)', ...(line === undefined ? {} : { line }) });
      return;
    }
    if (object.kind === 'List' && Array.isArray((object as { items?: unknown }).items)) {
      (object as { items: unknown[] }).items.forEach((item, index) => add(item, `${path}.items[${index}]`, line));
      return;
    }
    const missing = ['apiVersion', 'kind'].filter((field) => typeof (object as Record<string, unknown>)[field] !== 'string');
    if (typeof object.metadata?.name !== 'string' || object.metadata.name === '') missing.push('metadata.name');
    if (missing.length > 0) {
      problems.push({ file: source, path, message: `missing ${missing.join(', ')}`, ...(line === undefined ? {} : { line }) });
      return;
    }
    objects.push({ source, object: object as KubeObject });
  };
  parseAllDocuments(text).forEach((document, index) => {
    const line = document.contents?.range === undefined ? undefined : text.slice(0, document.contents.range[0]).split('\n').length;
    if (document.errors.length > 0) {
      problems.push({ file: source, path: `document ${index + 1}`, message: `is not valid YAML: ${document.errors[0]?.message ?? ''}`, ...(line === undefined ? {} : { line }) });
      return;
    }
    const value = document.toJS() as unknown;
    if (value === null || value === undefined) return;
    add(value, `document ${index + 1}`, line);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return objects;
}

/**
 * Splits add-on objects into the three phases, each in a stable order. Two objects with the same
 * identity are an error naming both sources.
 */
export function orderAddons(objects: readonly AddonObject[]): OrderedAddons {
  const seen = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const { source, object } of objects) {
    const key = `${groupOf(object.apiVersion)}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) problems.push({ file: source, path: `${object.kind} ${object.metadata.name}`, message: `is also declared in ${earlier}` });
    else seen.set(key, source);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const definitions: AddonObject[] = [];
  const controllers: AddonObject[] = [];
  const resources: AddonObject[] = [];
  for (const item of objects) {
    const { kind, apiVersion } = item.object;
    if (kind === 'Namespace' || (kind === 'CustomResourceDefinition' && groupOf(apiVersion) === 'apiextensions.k8s.io')) definitions.push(item);
    else if (BUILT_IN_GROUPS.has(groupOf(apiVersion))) controllers.push(item);
    else resources.push(item);
  }
  const name = (item: AddonObject) => `${item.object.metadata.namespace ?? ''}/${item.object.metadata.name}`;
  const byRank = (order: readonly string[]) => (a: AddonObject, b: AddonObject) => {
    const rank = (kind: string) => (order.indexOf(kind) < 0 ? order.length : order.indexOf(kind));
    return rank(a.object.kind) - rank(b.object.kind) || a.object.kind.localeCompare(b.object.kind) || name(a).localeCompare(name(b));
  };
  return {
    definitions: definitions.sort(byRank(['Namespace', 'CustomResourceDefinition'])),
    controllers: controllers.sort(byRank(CONTROLLER_ORDER)),
    resources: resources.sort(byRank([])),
  };
}
