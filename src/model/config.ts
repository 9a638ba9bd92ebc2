import { z } from 'zod';
import { dnsLabel, dnsSubdomain, durationSchema, secretSourceSchema } from './primitives.js';
import { servicePatchSchema } from './service.js';
import { secretValueSchema } from './value-schemas.js';

const gitHostSchema = z.strictObject({
  provider: z.enum(['gitlab', 'github']),
  /** Web base URL, e.g. `https://gitlab.example.com`; defaults to gitlab.com / github.com. */
  url: z.url().optional(),
  /** API base URL when it is not derived from `url` (GitHub Enterprise: `https://host/api/v3`). */
  apiUrl: z.url().optional(),
  /** The account diploid acts as. */
  user: z.string().optional(),
  /** Where the API token is read from at run time: `{ env: 'GITLAB_TOKEN' }` or `{ file: '/run/secrets/token' }`. */
  token: secretSourceSchema,
});
export type GitHostConfig = z.output<typeof gitHostSchema>;

const repoSchema = z.strictObject({
  /** Name of an entry of `git.hosts`; the only host when there is one. */
  host: z.string().optional(),
  /** Path of the repository on its host, e.g. `shop/cart`. */
  path: z.string().min(1),
  /** The branch that feeds environments not set by a branch rule. */
  branch: z.string().optional(),
  /** Service file(s) inside the repo. */
  serviceFile: z.string().optional(),
  /** A local folder holding the repo (relative to the ops repo), used when rendering without git. */
  local: z.string().optional(),
  /**
   * The services this repo's own file may describe; by default the one named like the repo. A
   * repo's file can never add, replace or change any other service.
   */
  services: z.array(z.string().min(1)).min(1).optional(),
  /**
   * Refuse code from this repo: its service file must be `diploid.service.json` or `.yaml`.
   * For repos whose pushers should not run code in diploid at all.
   */
  dataOnly: z.boolean().optional(),
});
export type RepoConfig = z.output<typeof repoSchema>;

const previewSchema = z.strictObject({
  /** `full`: every service in its own namespace; `single`: only changed services, the rest reused from `base`. */
  mode: z.enum(['full', 'single']),
  /** The environment whose settings a preview starts from, and whose instances `single` reuses. */
  base: z.string(),
  /** Tear the preview down when its branch saw no push for this long. */
  ttl: durationSchema.optional(),
});

const branchRuleSchema = z
  .strictObject({
    /** An exact name (`main`), a glob (`release/*`) or a regular expression (`/^hotfix-\d+$/`). */
    branch: z.union([z.string().min(1), z.instanceof(RegExp)]),
    /** The environment a matching branch deploys to. */
    environment: z.string().optional(),
    /** A preview environment per matching branch, named after the branch. */
    preview: previewSchema.optional(),
  })
  .refine((rule) => (rule.environment === undefined) !== (rule.preview === undefined), {
    message: 'exactly one of environment or preview',
  });
export type BranchRule = z.output<typeof branchRuleSchema>;

const sharedValuesSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'a name of letters, digits, "_", "-" and "."'),
  z.union([z.string(), z.number(), z.boolean(), secretValueSchema]),
);

const environmentSchema = z.strictObject({
  /** The Kubernetes namespace; `<project>-<environment>` by default. */
  namespace: dnsLabel.optional(),
  /**
   * The namespace exists and belongs to someone else (`default`, one a platform team hands
   * out): diploid renders no Namespace object and never labels or deletes it.
   */
  existingNamespace: z.boolean().optional(),
  /** Public domain of this environment's routes; `<environment>.<ingress.domain>` by default. */
  domain: z.string().optional(),
  /** Shared values that differ in this environment. */
  shared: sharedValuesSchema.optional(),
  /** Overrides for every service of this environment (e.g. `{ replicas: 1 }`). */
  defaults: servicePatchSchema.optional(),
  /** Overrides per service: `{ api: { replicas: 3 } }`. */
  services: z.record(z.string(), servicePatchSchema).optional(),
  /**
   * Deploys only by `diploid promote --from <from>` (or a rollback), never by a push: production
   * then runs only what ran in `from` first.
   */
  promotion: z.strictObject({ from: dnsLabel }).optional(),
  /**
   * The cluster this environment deploys to: the name of an entry of `clusters`. By default the
   * controller's own cluster (or, for `diploid apply`, the one of `--kubeconfig`).
   */
  cluster: dnsLabel.optional(),
  /**
   * All or nothing: a failed image build deploys none of the environment's services, and a
   * failed rollout puts the whole environment back at its last deployed revision. By default a
   * failed build holds back only the services that need its image, and a failed rollout leaves
   * the other services at the new version.
   */
  atomic: z.boolean().optional(),
});
export type EnvironmentConfig = z.output<typeof environmentSchema>;

const clusterSchema = z.strictObject({
  /**
   * Name of a Secret in the controller's namespace holding the cluster's kubeconfig. You create
   * it (`kubectl -n diploid-system create secret generic NAME --from-file=kubeconfig=FILE`); it is
   * never in git. The kubeconfig must carry its credentials inline (a token or client
   * certificate data): exec plugins, auth providers and file paths are refused.
   */
  kubeconfigSecret: dnsSubdomain,
  /** The key of the kubeconfig in that Secret; `kubeconfig` by default. */
  key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'a Secret key of letters, digits, "-", "_" and "."').optional(),
  /**
   * The ops repo's add-ons in this cluster. By default every add-on goes to a cluster that hosts
   * an environment (and none to one that does not: those it got are pruned); `false`: diploid
   * leaves the cluster's add-ons alone (never applies nor prunes them there); a list: only the
   * add-ons of these files or folders of the add-ons folder (e.g.
   * `addons/ingress`) and these `addons.remote` URLs, the others applied there before are pruned.
   */
  addons: z
    .union([z.boolean(), z.array(z.string().min(1).refine((entry) => !entry.split('/').includes('..'), 'a path inside the ops repo (no "..")'))])
    .optional(),
});
export type ClusterConfig = z.output<typeof clusterSchema>;

/** The controller's own cluster, as statuses and commands name it; no entry of `clusters` may take it. */
export const HOME_CLUSTER = 'home';

export const configSchema = z.strictObject({
  /** Name of the whole application; the `app.kubernetes.io/part-of` label. */
  project: dnsLabel,
  git: z
    .strictObject({
      hosts: z.record(dnsLabel, gitHostSchema),
    })
    .optional(),
  /** Where the ops repo itself lives on its git host, so that its pushes reach diploid by webhook. */
  ops: z
    .strictObject({
      /** Name of an entry of `git.hosts`; the only host when there is one. */
      host: z.string().optional(),
      /** Path of the ops repository on its host, e.g. `shop/ops`. */
      path: z.string().min(1),
    })
    .optional(),
  /** Service repositories, by the name service files use in `build.repo`; `ops` names the ops repo and cannot be used. */
  repos: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a repo name of lower-case letters, digits, ".", "_" and "-"').refine((name) => name !== 'ops', 'not "ops", which names the ops repo itself'), repoSchema).optional(),
  /** Where built images are pushed and pulled. */
  registry: z
    .strictObject({
      /** e.g. `registry.example.com/shop`. */
      url: z.string().min(1),
      /** Name of an image pull Secret in each namespace. */
      pullSecret: dnsLabel.optional(),
    })
    .optional(),
  ingress: z
    .strictObject({
      /** Base domain; environments get `<environment>.<domain>` unless they set their own. */
      domain: z.string().optional(),
      /** IngressClass name, e.g. `nginx`. */
      className: dnsSubdomain.optional(),
      /** `ingress` (networking.k8s.io/v1 Ingress) or `gateway` (Gateway API HTTPRoute). */
      api: z.enum(['ingress', 'gateway']).optional(),
      /** The Gateway HTTPRoutes attach to, when `api` is `gateway`. */
      gateway: z.strictObject({ name: z.string(), namespace: z.string().optional() }).optional(),
      /** cert-manager issuer for TLS certificates. */
      tls: z.strictObject({ issuer: z.string(), kind: z.enum(['ClusterIssuer', 'Issuer']).optional() }).optional(),
    })
    .optional(),
  /** Values shared by services through `shared('NAME')` and `{{ shared.NAME }}`. */
  shared: sharedValuesSchema.optional(),
  /** Named partial services, reused through `extends: ['name']`, also from service repos. */
  fragments: z.record(z.string(), servicePatchSchema).optional(),
  /**
   * Clusters other than the controller's own, by a name environments use in `cluster`: one ops
   * repo then drives, say, staging on one cluster and production on another.
   */
  clusters: z
    .record(
      // `home` is how statuses and `forget-left-behind --cluster home` name the controller's own cluster.
      dnsLabel.refine((name) => name !== HOME_CLUSTER, `a name other than "${HOME_CLUSTER}", which means the controller's own cluster`),
      clusterSchema,
    )
    .optional(),
  environments: z.record(dnsLabel, environmentSchema).refine((envs) => Object.keys(envs).length > 0, 'at least one environment'),
  /** Ordered rules from branch to environment; the first match wins. */
  branches: z.array(branchRuleSchema).optional(),
  /** How GitLab and GitHub reach diploid's webhook endpoint. */
  webhooks: z
    .strictObject({
      /** Public URL of the webhook endpoint, e.g. `https://diploid.example.com`. */
      publicUrl: z.url().optional(),
      /** Master secret the per-repo webhook secrets derive from: `{ env }` or `{ file }`. */
      secret: secretSourceSchema.optional(),
    })
    .optional(),
  /** The cluster-side component installed by `diploid init`. */
  controller: z
    .strictObject({
      /** Namespace it runs in; `diploid-system` by default. */
      namespace: dnsLabel.optional(),
      /** The diploid image it runs. */
      image: z.string().optional(),
      /** Image of in-cluster build Jobs: BuildKit's `moby/buildkit` (default) or one with its `buildctl-daemonless.sh`. */
      builderImage: z.string().optional(),
      /** How often git is checked even without webhooks, e.g. `5m`. */
      resync: durationSchema.optional(),
    })
    .optional(),
  /** Globs of service files in the ops repo. */
  services: z.array(z.string()).optional(),
  /** Secret values kept in the ops repo, encrypted with age in SOPS' file format (`diploid secrets`). */
  secrets: z
    .strictObject({
      /** age public keys every secret file is encrypted to, by a name of your choosing: the cluster's and each editor's. */
      recipients: z.record(z.string().min(1), z.string().regex(/^age1[02-9ac-hj-np-z]{58}$/, 'an age public key (age1... , 62 characters)')),
      /** Folder of the encrypted files, relative to the ops repo; `secrets` by default. */
      dir: z.string().min(1).optional(),
      /** Secret in the controller's namespace holding the cluster's private key (key `age.key`); `diploid-age-key` by default. */
      keySecret: dnsLabel.optional(),
    })
    .optional(),
  /** Cluster add-ons applied before any environment: CRDs, their controllers, then custom resources. */
  addons: z
    .strictObject({
      /** Folder of plain manifests (`*.yaml`), relative to the ops repo; `addons` by default. */
      dir: z.string().min(1).optional(),
      /** Manifests fetched from a URL, each pinned by the sha256 of its content. */
      remote: z.array(z.strictObject({ url: z.url(), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 of the content, 64 lower-case hex digits') })).optional(),
    })
    .optional(),
  /** Helper images diploid uses in generated steps. */
  images: z
    .strictObject({
      /** Small image with a shell, `nc` and `awk`: waits for dependencies and renders secret-bearing files. */
      utility: z.string().optional(),
      /** Static file server for `spa` services. */
      static: z.string().optional(),
      /** Node.js image that builds `spa` services. */
      node: z.string().optional(),
    })
    .optional(),
});

/** `.diploid.conf.js` as written by users. */
export type ConfigInput = z.input<typeof configSchema>;
/** `.diploid.conf.js` after validation. */
export type ConfigSpec = z.output<typeof configSchema>;
