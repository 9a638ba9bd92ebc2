import type { ServicePatchSpec } from '../../model/service.js';
import { mergeLayers } from '../merge.js';

/** Port the static server listens on; unprivileged, so the hardened defaults hold. */
export const SPA_PORT = 8080;
/** The user id of the unprivileged nginx image. */
const STATIC_SERVER_USER = 101;

export interface SpaImages {
  readonly node: string;
  readonly static: string;
}

/**
 * The `spa` preset: a multi-stage build (Node builds, a static server serves) and a server
 * config with an index.html fallback and long-lived caching for fingerprinted assets. The
 * service's own settings still win over every default set here.
 */
export function expandSpa(spec: ServicePatchSpec, images: SpaImages): { spec: ServicePatchSpec; dockerfile?: string } {
  if (spec.spa === undefined) return { spec };
  const options = spec.spa === true ? {} : spec.spa;
  const output = (options.output ?? 'dist').replace(/^\.?\/*|\/+$/g, '');
  const command = options.command ?? 'npm run build';
  const nodeImage = options.node === undefined ? images.node : `node:${options.node}-alpine`;
  const dockerfile = [
    `FROM ${nodeImage} AS build`,
    'WORKDIR /app',
    'COPY package*.json ./',
    'RUN npm ci',
    'COPY . .',
    `RUN ${command}`,
    `FROM ${images.static}`,
    `COPY --from=build /app/${output}/ /usr/share/nginx/html/`,
    '',
  ].join('\n');
  const defaults: ServicePatchSpec = {
    build: { context: options.context ?? '.' },
    port: SPA_PORT,
    health: { http: '/' },
    files: { '/etc/nginx/conf.d/default.conf': serverConfig() },
    security: { runAsUser: STATIC_SERVER_USER },
    resources: { cpu: { request: '50m', limit: '200m' }, memory: { request: '32Mi', limit: '64Mi' } },
  };
  return { spec: mergeLayers(defaults, spec), dockerfile };
}

/**
 * An asset whose name carries a content hash (`app.3f2a9c.js`, Vite's `index-B1x2y3z4.css`): a
 * run of at least six letters, digits, `_` or `-` holding a digit, right before the extension.
 * Only these may be cached for a year: a name without a hash, such as a `config.js` rendered at
 * deploy time, changes content under the same name and must be revalidated. nginx checks regex
 * locations in order and takes the first match, so this one comes first; the `{6,}` makes nginx
 * need the expression in quotes.
 */
const FINGERPRINTED_ASSET = '[.-](?=[a-z0-9_-]*[0-9])[a-z0-9_-]{6,}\\.(?:js|mjs|css|woff2?|ttf|png|jpe?g|gif|svg|ico|webp|avif)$';

function serverConfig(): string {
  return `server {
  listen ${SPA_PORT};
  root /usr/share/nginx/html;
  location / {
    try_files $uri $uri/ /index.html;
    add_header Cache-Control "no-cache";
  }
  location ~* "${FINGERPRINTED_ASSET}" {
    try_files $uri =404;
    add_header Cache-Control "public, max-age=31536000, immutable";
  }
  location ~* \\.(?:js|mjs|css|woff2?|ttf|png|jpe?g|gif|svg|ico|webp|avif)$ {
    try_files $uri =404;
    add_header Cache-Control "no-cache";
  }
}
`;
}
