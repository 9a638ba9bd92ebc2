/**
 * The ops repo as `diploid up` pushes it to the local bed: the example's own config, unchanged,
 * under another name, and a `.diploid.conf.js` that imports it and points what names the outside
 * world at the bed (git host, registry, ingress domain and class, a short resync). Pure.
 */

/** The example's config keeps its content under this name in the bed's copy of the ops repo. */
export const BASE_CONFIG_FILE = 'diploid.up-base.conf.js';

/** What the overlay points at. */
export interface BedTargets {
  /** Base URL of the bed's git server. */
  readonly gitUrl: string;
  /** Registry host:port; images go to `<registry>/<project>`. */
  readonly registry: string;
  readonly ingressClass: string;
  /** e.g. `shop.localhost`: every environment gets `<environment>.<domain>`. */
  readonly domain: string;
  /** How often the controller reads branch heads: the bed has no webhooks. */
  readonly resync: string;
  /** The one environment brought up: the branch rules of the others and of previews are left out. */
  readonly environment: string;
}

/** Host name the bed's git server has in the overlay's `git.hosts`. */
export const BED_HOST = 'bed';
/** Environment variable of the bed host's (unused) API token: the schema asks for one. */
export const BED_TOKEN_ENV = 'DIPLOID_BED_GIT_TOKEN';

/** `.diploid.conf.js` of the bed's copy of the ops repo, importing the example's own as `BASE_CONFIG_FILE`. */
export function overlayConfig(targets: BedTargets): string {
  return `// Written by \`diploid up\` for the local test bed: ${BASE_CONFIG_FILE} is this repo's own
// .diploid.conf.js, unchanged; this file points its git host, registry and ingress at the bed.
import base from './${BASE_CONFIG_FILE}';

const bed = ${JSON.stringify(targets, null, 2)};

function onBed(config) {
  const environments = Object.fromEntries(
    Object.entries(config.environments ?? {}).map(([name, environment]) => [name, { ...environment, domain: \`\${name}.\${bed.domain}\` }]),
  );
  // Only the environment brought up is deployed. The others stay (services may name them) with a
  // branch pattern no push matches: an environment no rule targets, or whose exact branch a repo
  // lacks, would take every repo's default branch. Previews are left out.
  const branches = [
    ...(config.branches ?? []).filter((rule) => rule.environment === bed.environment),
    ...Object.keys(environments).filter((name) => name !== bed.environment).map((name) => ({ branch: \`diploid-up-not-deployed/\${name}/*\`, environment: name })),
  ];
  const repos = Object.fromEntries(
    Object.entries(config.repos ?? {}).map(([name, repo]) => {
      const { host: _host, ...rest } = repo;
      return [name, rest];
    }),
  );
  // No webhooks reach the bed: the controller follows git by resync.
  const { webhooks: _webhooks, ...rest } = config;
  return {
    ...rest,
    git: { hosts: { ${BED_HOST}: { provider: 'github', url: bed.gitUrl, token: { env: '${BED_TOKEN_ENV}' } } } },
    registry: { url: \`\${bed.registry}/\${config.project}\` },
    ingress: { domain: bed.domain, className: bed.ingressClass },
    controller: { ...config.controller, resync: bed.resync },
    repos,
    environments,
    branches,
  };
}

export default onBed(base);
`;
}
