/**
 * The resolved application: every default filled in, every reference checked, one environment.
 * Backends accept only this form, so none of them re-derives a default. It speaks of services,
 * ports and routes, never of Deployments or compose keys.
 */

export type PortProtocol = 'http' | 'http2' | 'grpc' | 'tcp' | 'udp';

export interface ResolvedPort {
  readonly name: string;
  /** Port the container listens on. */
  readonly port: number;
  /** Port other services and routes use. */
  readonly servicePort: number;
  readonly protocol: PortProtocol;
}

/** Where an environment variable's value comes from. */
export type ResolvedEnvValue =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'secret'; readonly secret: string; readonly key: string };

export interface ResolvedEnvVar {
  readonly name: string;
  readonly value: ResolvedEnvValue;
}

export type ResolvedProbeCheck =
  | { readonly kind: 'http'; readonly path: string; readonly port: ResolvedPort; readonly headers: ReadonlyArray<{ name: string; value: string }>; readonly scheme: 'HTTP' | 'HTTPS' }
  | { readonly kind: 'tcp'; readonly port: ResolvedPort }
  | { readonly kind: 'grpc'; readonly port: ResolvedPort; readonly service?: string }
  | { readonly kind: 'exec'; readonly command: readonly string[] };

export interface ResolvedProbe {
  readonly check: ResolvedProbeCheck;
  readonly initialDelay?: number;
  readonly period?: number;
  readonly timeout?: number;
  readonly failureThreshold?: number;
}

export interface ResolvedHealth {
  readonly readiness?: ResolvedProbe;
  readonly liveness?: ResolvedProbe;
  readonly startup?: ResolvedProbe;
}

export type ResolvedVolume =
  | { readonly kind: 'scratch'; readonly name: string; readonly path: string; readonly memory: boolean; readonly sizeLimit?: string }
  | { readonly kind: 'persistent'; readonly name: string; readonly path: string; readonly size: string; readonly storageClass?: string; readonly accessMode: 'ReadWriteOnce' | 'ReadWriteMany' | 'ReadOnlyMany' | 'ReadWriteOncePod' };

/** A piece of a rendered file: text known now, or a secret filled in where the app runs. */
export type FilePart = { readonly text: string } | { readonly secret: string; readonly key: string };

export interface ResolvedFile {
  /** Absolute path inside the container. */
  readonly path: string;
  /** Stable short name for the object or key that carries it. */
  readonly key: string;
  readonly parts: readonly FilePart[];
  readonly mode?: number;
  /** True when a part is a secret: the file is then assembled where the app runs. */
  readonly hasSecrets: boolean;
}

export interface ResolvedCors {
  readonly origins: readonly string[];
  readonly methods: readonly string[];
  readonly headers: readonly string[];
  readonly credentials: boolean;
  readonly maxAge: number;
}

export interface ResolvedRoute {
  /** Full host name. */
  readonly host: string;
  readonly path: string;
  readonly port: ResolvedPort;
  readonly tls: boolean;
}

export type ResolvedReplicas =
  | { readonly kind: 'fixed'; readonly count: number }
  | { readonly kind: 'auto'; readonly min: number; readonly max: number; readonly cpu?: number; readonly memory?: number }
  | { readonly kind: 'per-host' };

export interface ResolvedResources {
  readonly cpu?: { readonly request?: string; readonly limit?: string };
  readonly memory?: { readonly request?: string; readonly limit?: string };
}

export interface ResolvedSecurity {
  readonly runAsNonRoot: boolean;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
  readonly readOnlyRootFilesystem: boolean;
  readonly allowPrivilegeEscalation: boolean;
  readonly addCapabilities: readonly string[];
}

/** How the image is obtained. */
export type ResolvedImage =
  | { readonly kind: 'pull'; readonly ref: string }
  | {
      readonly kind: 'build';
      /** Where the built image is pushed and pulled from. */
      readonly ref: string;
      readonly repo: string;
      readonly context: string;
      readonly dockerfile: string;
      /** A Dockerfile diploid writes itself (the `spa` preset), instead of one in the repo. */
      readonly inlineDockerfile?: string;
      readonly args: Readonly<Record<string, string>>;
      readonly target?: string;
      /** Paths in the repo whose change rebuilds the image. */
      readonly watch: readonly string[];
    };

export interface ResolvedDependency {
  readonly service: string;
  readonly port: ResolvedPort;
}

/** A container beyond the main one: a sidecar, an init step, a task or a schedule's job. */
export interface ResolvedContainer {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env: readonly ResolvedEnvVar[];
  readonly resources: ResolvedResources;
}

/** A one-shot task run once per revision before the rollout. */
export interface ResolvedTask extends ResolvedContainer {
  readonly retries: number;
  readonly timeout?: number;
}

/** A job on a schedule. */
export interface ResolvedSchedule extends ResolvedContainer {
  readonly schedule: string;
  readonly retries: number;
  readonly timeout?: number;
}

export interface ResolvedService {
  readonly name: string;
  /** Files the service was assembled from, in merge order. */
  readonly sources: readonly string[];
  readonly image: ResolvedImage;
  readonly ports: readonly ResolvedPort[];
  readonly env: readonly ResolvedEnvVar[];
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly replicas: ResolvedReplicas;
  readonly resources: ResolvedResources;
  readonly health: ResolvedHealth;
  readonly volumes: readonly ResolvedVolume[];
  readonly files: readonly ResolvedFile[];
  readonly routes: readonly ResolvedRoute[];
  readonly cors?: ResolvedCors;
  /** Serve as a single-page app: unknown paths fall back to index.html. */
  readonly spa: boolean;
  readonly placement: 'default' | 'one-per-host' | 'spread';
  /** With `name`, a separate Service for outside traffic; otherwise the Service itself changes type. */
  readonly expose?: { readonly type: 'LoadBalancer' | 'NodePort'; readonly port: ResolvedPort; readonly nodePort?: number; readonly name?: string };
  /** Own service account (`own`), an existing one by name, or none. */
  readonly serviceAccount: { readonly kind: 'none' } | { readonly kind: 'own' } | { readonly kind: 'existing'; readonly name: string };
  readonly security: ResolvedSecurity;
  readonly after: readonly ResolvedDependency[];
  /** Services this one refers to (env, files, CORS): what it needs to work. */
  readonly references: readonly string[];
  readonly disruption?: { readonly minAvailable?: number | string; readonly maxUnavailable?: number | string };
  readonly gracePeriod?: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Name of the main container. */
  readonly containerName: string;
  /** Native sidecars, in the order written. */
  readonly sidecars: readonly ResolvedContainer[];
  /** Init steps, in the order written; after the `after` waits. */
  readonly init: readonly ResolvedContainer[];
  readonly tasks: readonly ResolvedTask[];
  readonly schedules: readonly ResolvedSchedule[];
  /** Seconds an `after` wait tries before giving up; forever when undefined. */
  readonly afterTimeout?: number;
  /** On every object of the service. */
  readonly annotations: Readonly<Record<string, string>>;
  /** On the pods only; never the selector's keys. */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly podAnnotations: Readonly<Record<string, string>>;
}

export interface ResolvedIngress {
  readonly api: 'ingress' | 'gateway';
  readonly className?: string;
  readonly gateway?: { readonly name: string; readonly namespace?: string };
  readonly tls?: { readonly issuer: string; readonly kind: 'ClusterIssuer' | 'Issuer' };
}

export interface ResolvedEnvironment {
  readonly name: string;
  readonly namespace: string;
  /** False when the namespace belongs to someone else: no Namespace object, never labelled or deleted. */
  readonly ownsNamespace: boolean;
  readonly domain?: string;
  /** Deployed to a cluster other than the controller's own (`environments.<name>.cluster`). */
  readonly cluster?: ResolvedCluster;
  /** All or nothing: a failed build deploys nothing, a failed rollout puts the last revision back. */
  readonly atomic?: true;
}

/** A cluster of `clusters`, reached with the kubeconfig in a Secret of the controller's namespace. */
export interface ResolvedCluster {
  readonly name: string;
  /** The Secret's name. */
  readonly secret: string;
  /** The kubeconfig's key in the Secret. */
  readonly key: string;
}

/** One environment of the application, ready for any backend. */
export interface ResolvedApp {
  readonly project: string;
  readonly environment: ResolvedEnvironment;
  readonly ingress: ResolvedIngress;
  readonly images: { readonly utility: string; readonly static: string; readonly node: string };
  readonly pullSecret?: string;
  /** Sorted by name. */
  readonly services: readonly ResolvedService[];
  /**
   * Services not deployed here but reached under their own name from this environment: a
   * `single` preview reuses them from its base environment's namespace. Sorted by service.
   */
  readonly reused?: ReadonlyArray<{ readonly service: string; readonly namespace: string }>;
}
