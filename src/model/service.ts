import { z } from 'zod';
import { dnsLabel, idNumber, labelKey, labelValue, portName, portNumber, quantity, resourceRange, serviceName } from './primitives.js';
import { envValueSchema, serviceRefSchema } from './value-schemas.js';

/** A port by number or by the name given under `ports`. */
const portRef = z.union([portNumber, dnsLabel]);

const portProtocol = z.enum(['http', 'http2', 'grpc', 'tcp', 'udp']);

const portSpec = z.union([
  portNumber,
  z.strictObject({
    /** The port the container listens on. */
    port: portNumber,
    /** What speaks on it; `http` by default. Used for probes, appProtocol and routing. */
    protocol: portProtocol.optional(),
    /** The port the Service publishes, when it differs from the container's. */
    servicePort: portNumber.optional(),
  }),
]);

const probeTiming = {
  /** Seconds to wait before the first check. */
  initialDelay: z.number().int().min(0).optional(),
  /** Seconds between checks. */
  period: z.number().int().min(1).optional(),
  /** Seconds before a check counts as failed. */
  timeout: z.number().int().min(1).optional(),
  /** Failed checks in a row before the probe fails. */
  failureThreshold: z.number().int().min(1).optional(),
};

/** One health check: exactly one of `http`, `tcp`, `grpc` or `exec`. */
export const probeSchema = z
  .strictObject({
    /** A path (`'/healthz'`) on the first port, or `{ path, port, headers, scheme }`. */
    http: z
      .union([
        z.string().startsWith('/'),
        z.strictObject({
          path: z.string().startsWith('/'),
          port: portRef.optional(),
          headers: z.record(z.string(), z.string()).optional(),
          scheme: z.enum(['HTTP', 'HTTPS']).optional(),
        }),
      ])
      .optional(),
    /** A port that must accept TCP connections. */
    tcp: portRef.optional(),
    /** A port answering the gRPC health protocol, or `{ port, service }`. */
    grpc: z.union([portRef, z.strictObject({ port: portRef, service: z.string().optional() })]).optional(),
    /** A command run in the container; exit 0 means healthy. */
    exec: z.array(z.string()).min(1).optional(),
    ...probeTiming,
  })
  .refine((probe) => [probe.http, probe.tcp, probe.grpc, probe.exec].filter((kind) => kind !== undefined).length === 1, {
    message: 'exactly one of http, tcp, grpc or exec',
  });
export type ProbeInput = z.input<typeof probeSchema>;

/** A single check used for readiness and liveness, or one per kind. */
const healthSchema = z.union([
  z.strictObject({
    readiness: probeSchema.optional(),
    liveness: probeSchema.optional(),
    startup: probeSchema.optional(),
  }),
  probeSchema,
]);

const volumeSpec = z.union([
  /** `'scratch'`: an empty folder that lives as long as the instance; `'memory'`: the same in RAM. */
  z.enum(['scratch', 'memory']),
  z.strictObject({
    /** Size of a persistent volume that survives restarts and redeploys. */
    size: quantity,
    storageClass: z.string().optional(),
    accessMode: z.enum(['ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany', 'ReadWriteOncePod']).optional(),
  }),
  z.strictObject({ scratch: z.strictObject({ sizeLimit: quantity }) }),
]);

const fileSpec = z.union([
  z.string(),
  z.strictObject({
    /**
     * The file's text. `{{ env.NAME }}`, `{{ shared.NAME }}`, `{{ services.NAME.address }}`
     * (also `.host`, `.port`, `.url`), `{{ secrets.NAME.KEY }}` and `{{ environment }}` are
     * filled in at deploy time; secrets are filled in inside the pod, never in rendered output.
     */
    template: z.string(),
    /** File mode, e.g. `0o644`. */
    mode: z.number().int().min(0).max(0o777).optional(),
  }),
]);

const corsSchema = z.union([
  z.boolean(),
  z.strictObject({
    /** Allowed origins: URLs, or `ref('web').origin` for another service's public origin. */
    origins: z.array(z.union([z.string(), serviceRefSchema])).min(1),
    methods: z.array(z.string()).optional(),
    headers: z.array(z.string()).optional(),
    credentials: z.boolean().optional(),
    /** Seconds a browser may cache the preflight answer. */
    maxAge: z.number().int().min(0).optional(),
  }),
]);

const routeSpec = z.union([
  /** `'api'` (host on the environment's domain), `'api/v1'`, `'/api'` (apex) or a full host name. */
  z.string(),
  z.strictObject({
    /** A name on the environment's domain (`'api'`), `'@'` for the domain itself, or a full host with dots. */
    host: z.string().optional(),
    path: z.string().startsWith('/').optional(),
    port: portRef.optional(),
    /** TLS through the configured issuer; on by default when one is configured. */
    tls: z.boolean().optional(),
  }),
]);

const spaSchema = z.strictObject({
  /** Folder of the app inside its repo. */
  context: z.string().optional(),
  /** Command that builds the app. */
  command: z.string().optional(),
  /** Folder the build writes, relative to the context. */
  output: z.string().optional(),
  /** Node.js major version used to build. */
  node: z.string().optional(),
});

const securitySchema = z.strictObject({
  /** Allow the container to run as root (off by default). */
  runAsRoot: z.boolean().optional(),
  runAsUser: idNumber.optional(),
  runAsGroup: idNumber.optional(),
  fsGroup: idNumber.optional(),
  /** Let the container write to its root file system (read-only by default). */
  writableRootFilesystem: z.boolean().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  /** Linux capabilities to add back after all are dropped, e.g. `['NET_BIND_SERVICE']`. */
  capabilities: z.array(z.string().regex(/^[A-Z_]+$/, 'a capability name such as NET_BIND_SERVICE')).optional(),
});

const replicasSchema = z.union([
  z.number().int().min(0),
  z.strictObject({
    min: z.number().int().min(1),
    max: z.number().int().min(1),
    /** Target average CPU use, in percent of the request. */
    cpu: z.number().int().min(1).max(1000).optional(),
    /** Target average memory use, in percent of the request. */
    memory: z.number().int().min(1).max(1000).optional(),
  }).superRefine((range, context) => {
    // An autoscaler with min above max is refused by the API server; say so at the file.
    if (range.min > range.max) context.addIssue({ code: 'custom', message: `no more than max (${range.max})`, path: ['min'], input: range.min });
  }),
]);

/** Every field a service may set; all optional so that fragments and overrides reuse it. */
export const serviceFields = {
  /** Named fragments (from the ops config's `fragments`) merged under this service, in order. */
  extends: z.array(z.string()).optional(),
  /** A ready image, e.g. `'redis:7-alpine'`. */
  image: z.string().min(1).optional(),
  /** Build the image from a repo: `{ repo, context, dockerfile, args, target }`. */
  build: z
    .strictObject({
      repo: z.string().optional(),
      context: z.string().optional(),
      dockerfile: z.string().optional(),
      args: z.record(z.string(), z.string()).optional(),
      target: z.string().optional(),
      /** Extra paths in the repo whose change rebuilds this image. */
      watch: z.array(z.string()).optional(),
    })
    .optional(),
  /** A single port; named after its protocol (`http`). */
  port: portSpec.optional(),
  /** Named ports: `{ http: 8080, grpc: { port: 9090, protocol: 'grpc' } }`. */
  ports: z.record(portName, portSpec).optional(),
  /** Environment variables: literals, `shared(...)`, `secret(...)` or `ref(...)`. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'an environment variable name'), envValueSchema).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  args: z.array(z.string()).optional(),
  /** A fixed count, or `{ min, max, cpu }` to autoscale. */
  replicas: replicasSchema.optional(),
  /** `{ cpu: '200m..300m', memory: '64Mi..128Mi' }`: request..limit. */
  resources: z.strictObject({ cpu: resourceRange.optional(), memory: resourceRange.optional() }).optional(),
  health: healthSchema.optional(),
  /** Mounted folders: `{ '/tmp': 'scratch', '/data': { size: '1Gi' } }`. */
  volumes: z.record(z.string().startsWith('/'), volumeSpec).optional(),
  /** Config files rendered at deploy time and mounted at their path. */
  files: z.record(z.string().startsWith('/'), fileSpec).optional(),
  /** Public routes; an Ingress (or HTTPRoute) on the environment's domain. */
  routes: z.array(routeSpec).optional(),
  /** Cross-origin access for browsers, on every route of this service. */
  cors: corsSchema.optional(),
  /** Build a single-page app with Node and serve it as static files with an index.html fallback. */
  spa: z.union([z.literal(true), spaSchema]).optional(),
  /** `'one-per-host'`, `'spread'` over hosts and zones, or `'default'`. */
  placement: z.enum(['default', 'one-per-host', 'spread']).optional(),
  /** Reachable from outside without a route. */
  expose: z
    .strictObject({
      type: z.enum(['LoadBalancer', 'NodePort']),
      port: portRef.optional(),
      nodePort: z.number().int().min(30000).max(32767).optional(),
    })
    .optional(),
  /** `true` for a service account of its own, or the name of an existing one. */
  serviceAccount: z.union([z.boolean(), dnsLabel]).optional(),
  /** Relax the hardened defaults, one setting at a time. */
  security: securitySchema.optional(),
  /** Services that must answer before this one starts. */
  after: z.array(serviceName).optional(),
  /** Voluntary disruption budget. */
  disruption: z
    .strictObject({ minAvailable: z.union([z.number().int().min(0), z.string()]).optional(), maxUnavailable: z.union([z.number().int().min(0), z.string()]).optional() })
    .optional(),
  /** Seconds to let the app finish in-flight work on shutdown. */
  gracePeriod: z.number().int().min(0).optional(),
  /** Extra labels on this service's objects. */
  labels: z.record(labelKey, labelValue).optional(),
};

/** The part of a service that fragments and per-environment overrides may set. */
export const servicePatchSchema = z.strictObject({ ...serviceFields, name: serviceName.optional() });
export type ServicePatch = z.input<typeof servicePatchSchema>;
/** A validated partial service, as merged by the resolver. */
export type ServicePatchSpec = z.output<typeof servicePatchSchema>;

export const serviceSchema = z.strictObject({
  /** The service's name: its DNS name, its label, its objects' names. Said once. */
  name: serviceName,
  ...serviceFields,
  /** Per-environment overrides, merged over the rest: `{ production: { replicas: 3 } }`. */
  environments: z.record(z.string(), servicePatchSchema).optional(),
});

/** What a service file exports, as written by users. */
export type ServiceInput = z.input<typeof serviceSchema>;
/** A service file's content after validation. */
export type ServiceSpec = z.output<typeof serviceSchema>;
