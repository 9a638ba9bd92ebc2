/**
 * Kubernetes' own rules for names, and the names diploid derives from users' names. The
 * resolver checks them and the Kubernetes backend uses them, so both agree on every name: a
 * name the API server would refuse is reported with its file and path, never met at apply time.
 *
 * Checks test the length before any pattern, and the patterns have no nested quantifiers, so a
 * hostile megabyte-long name costs one pass.
 */

/** Label values, DNS labels, container and port-less names: at most 63 characters. */
export const MAX_LABEL = 63;
/** DNS subdomains (ConfigMap, Secret, claim names, hosts): at most 253 characters. */
export const MAX_SUBDOMAIN = 253;
/** IANA service names, which is what a port name must be. */
export const MAX_PORT_NAME = 15;
/** The API server refuses a ConfigMap whose data exceeds 1 MiB. */
export const MAX_CONFIGMAP_BYTES = 1024 * 1024;
/** uid and gid values Kubernetes accepts in a security context. */
export const MAX_ID = 2_147_483_647;
/**
 * A StatefulSet's pods carry `controller-revision-hash: <name>-<hash>` (a hash of up to 10
 * characters): a longer name is accepted, but its pods are then never created.
 */
export const MAX_STATEFULSET_NAME = MAX_LABEL - 11;

const LABEL_BODY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_BODY = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const KEY_BODY = /^[-._a-zA-Z0-9]+$/;

/** DNS-1123 label: a namespace name, a container name. */
export function isDnsLabel(name: string): boolean {
  return name.length > 0 && name.length <= MAX_LABEL && LABEL_BODY.test(name);
}

/** DNS-1035 label: a DNS-1123 label that starts with a letter, as a Service name must. */
export function isServiceName(name: string): boolean {
  return isDnsLabel(name) && /^[a-z]/.test(name);
}

/** DNS-1123 subdomain: ConfigMap, Secret, IngressClass and claim names. */
export function isDnsSubdomain(name: string): boolean {
  return name.length > 0 && name.length <= MAX_SUBDOMAIN && name.split('.').every((part) => part.length <= MAX_LABEL && LABEL_BODY.test(part));
}

/** An IANA service name: what Kubernetes accepts as a port name (`http`, `grpc-web`, not `a--b` or `123`). */
export function isPortName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_PORT_NAME && LABEL_BODY.test(name) && !name.includes('--') && /[a-z]/.test(name);
}

/** A label value: empty, or up to 63 letters, digits, `-`, `_` and `.` between alphanumerics. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= MAX_LABEL && QUALIFIED_BODY.test(value));
}

/** A label or annotation key: `name` or `prefix/name`, the prefix a DNS subdomain. */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0 && !isDnsSubdomain(key.slice(0, slash))) return false;
  return name.length > 0 && name.length <= MAX_LABEL && QUALIFIED_BODY.test(name);
}

/** A key of a ConfigMap or a Secret. */
export function isDataKey(key: string): boolean {
  return key.length > 0 && key.length <= MAX_SUBDOMAIN && key !== '.' && key !== '..' && KEY_BODY.test(key);
}

/** An Ingress host: a lower-case DNS subdomain, optionally starting with `*.`. */
export function isIngressHost(host: string): boolean {
  return isDnsSubdomain(host.startsWith('*.') ? host.slice(2) : host);
}

/** The `app.kubernetes.io/instance` label of a service's objects. */
export function instanceLabel(service: string, environment: string): string {
  return `${service}-${environment}`;
}

/** The namespace of an environment that sets none. */
export function defaultNamespace(project: string, environment: string): string {
  return `${project}-${environment}`;
}

/** The ConfigMap holding a service's files that have no secrets. */
export function filesConfigMapName(service: string): string {
  return `${service}-files`;
}

/** The ConfigMap holding a service's templates of files with secrets. */
export function templatesConfigMapName(service: string): string {
  return `${service}-file-templates`;
}

/** The PersistentVolumeClaim of a persistent volume. */
export function claimName(service: string, volume: string): string {
  return `${service}-${volume}`;
}

/** The init step that waits for a dependency. */
export function waitStepName(dependency: string): string {
  return `wait-for-${dependency}`;
}

/** Names of pod volumes diploid adds itself; a user's volume must not take one. */
export const RESERVED_VOLUME_NAMES = ['files', 'file-templates', 'rendered-files'] as const;

/**
 * The workload kind of a service: one per host is a DaemonSet; persistent volumes with several
 * (or autoscaled) replicas need a StatefulSet; everything else is a Deployment.
 */
export function workloadKind(replicas: { readonly kind: string; readonly count?: number }, hasPersistentVolume: boolean): 'DaemonSet' | 'StatefulSet' | 'Deployment' {
  if (replicas.kind === 'per-host') return 'DaemonSet';
  const count = replicas.kind === 'fixed' ? replicas.count : undefined;
  return hasPersistentVolume && (count === undefined || count > 1) ? 'StatefulSet' : 'Deployment';
}
