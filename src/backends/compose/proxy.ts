import type { ResolvedCors, ResolvedRoute, ResolvedService } from '../../resolve/model.js';
import type { ComposeContext } from './context.js';
import { hardened } from './security.js';
import type { ComposeService } from './types.js';

/** The reverse proxy service diploid adds when routes exist. */
export const PROXY_SERVICE = 'diploid-proxy';
/** Caddy: it gets and renews TLS certificates by itself, which is what `tls` routes need. */
export const PROXY_IMAGE = 'caddy:2.8-alpine';
const CADDYFILE = `${PROXY_SERVICE}-caddyfile`;
const DATA_VOLUME = `${PROXY_SERVICE}-data`;

interface Site {
  readonly address: string;
  readonly routes: Array<{ readonly service: ResolvedService; readonly route: ResolvedRoute }>;
}

/**
 * Routes become one Caddy reverse proxy in front of the services: a site per host, a
 * `handle` per path prefix, CORS answered by the proxy as ingress-nginx would. Returns
 * nothing when no service has routes.
 */
export function proxyService(context: ComposeContext, services: readonly ResolvedService[]): ComposeService | undefined {
  const sites = sitesOf(services);
  if (sites.length === 0) return undefined;
  if (context.app.ingress.tls !== undefined && sites.some((site) => !site.address.startsWith('http://'))) {
    context.warn(undefined, 'ingress.tls', `issuer "${context.app.ingress.tls.issuer}" is a cert-manager issuer; the proxy gets certificates itself (Caddy's automatic HTTPS), which needs the hosts' DNS to point at this docker host`);
  }
  context.addConfig(CADDYFILE, caddyfile(sites));
  context.addVolume(DATA_VOLUME);
  const tls = sites.some((site) => !site.address.startsWith('http://'));
  const routed = [...new Set(sites.flatMap((site) => site.routes.map(({ service }) => service.name)))].sort();
  return {
    image: PROXY_IMAGE,
    configs: [{ source: CADDYFILE, target: '/etc/caddy/Caddyfile' }],
    volumes: [
      { type: 'volume', source: DATA_VOLUME, target: '/data' },
      { type: 'tmpfs', target: '/config' },
    ],
    ports: tls ? ['80:80', '443:443'] : ['80:80'],
    depends_on: Object.fromEntries(routed.map((name) => [name, { condition: 'service_started' as const }])),
    restart: 'unless-stopped',
    ...hardened(['NET_BIND_SERVICE']),
  };
}

function sitesOf(services: readonly ResolvedService[]): Site[] {
  const sites = new Map<string, Site>();
  for (const service of services) {
    for (const route of service.routes) {
      const address = route.tls ? route.host : `http://${route.host}`;
      const site = sites.get(address) ?? { address, routes: [] };
      site.routes.push({ service, route });
      sites.set(address, site);
    }
  }
  return [...sites.values()].sort((a, b) => a.address.localeCompare(b.address));
}

/** The Caddyfile: longest path prefixes first, so `/api` wins over `/`. */
export function caddyfile(sites: readonly Site[]): string {
  const lines = ['{', '\tadmin off', '}'];
  for (const site of sites) {
    lines.push('', `${site.address} {`);
    const routes = [...site.routes].sort((a, b) => b.route.path.length - a.route.path.length || a.route.path.localeCompare(b.route.path) || a.service.name.localeCompare(b.service.name));
    routes.forEach(({ service, route }, index) => {
      const matcher = `@route${index + 1}`;
      const catchAll = route.path === '/' || route.path === '';
      if (!catchAll) {
        const prefix = route.path.replace(/\/+$/, '');
        lines.push(`\t${matcher} path ${prefix} ${prefix}/*`);
      }
      lines.push(catchAll ? '\thandle {' : `\thandle ${matcher} {`);
      if (service.cors !== undefined) lines.push(...corsLines(service.cors).map((line) => `\t\t${line}`));
      const scheme = route.port.protocol === 'grpc' || route.port.protocol === 'http2' ? 'h2c://' : '';
      lines.push(`\t\treverse_proxy ${scheme}${service.name}:${route.port.port}`, '\t}');
    });
    lines.push('}');
  }
  // Spaces, not Caddy's usual tabs: YAML writers put text with tabs on one escaped line.
  return `${lines.join('\n').replace(/^\t+/gm, (tabs) => '  '.repeat(tabs.length))}\n`;
}

/** CORS as the proxy's answer: allowed origins get the headers, preflight requests a 204. */
function corsLines(cors: ResolvedCors): string[] {
  const any = cors.origins.includes('*');
  const originMatcher = any ? 'header Origin *' : `header_regexp Origin ^(?:${cors.origins.map(escapeRegex).join('|')})$`;
  const allowOrigin = any ? '*' : '{http.request.header.Origin}';
  return [
    `@cors ${originMatcher}`,
    'header @cors {',
    `\tAccess-Control-Allow-Origin ${quote(allowOrigin)}`,
    ...(cors.credentials ? ['\tAccess-Control-Allow-Credentials true'] : []),
    ...(any ? [] : ['\tVary Origin']),
    '}',
    '@preflight {',
    '\tmethod OPTIONS',
    `\t${originMatcher}`,
    '\theader Access-Control-Request-Method *',
    '}',
    'handle @preflight {',
    '\theader {',
    `\t\tAccess-Control-Allow-Methods ${quote(cors.methods.join(', '))}`,
    `\t\tAccess-Control-Allow-Headers ${quote(cors.headers.join(', '))}`,
    `\t\tAccess-Control-Max-Age ${cors.maxAge}`,
    '\t}',
    '\trespond 204',
    '}',
  ];
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

function quote(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
