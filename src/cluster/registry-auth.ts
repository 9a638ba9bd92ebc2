/**
 * Registry authentication as the distribution spec and Docker's token spec define it: a 401
 * answer's `WWW-Authenticate` names the scheme. `Basic` takes the credentials as they are;
 * `Bearer realm=...,service=...,scope=...` sends them (or nothing, for anonymous pulls) to the
 * realm, which answers a short-lived token for the next request.
 */

/** A username and password (or token) for one registry host; never logged. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** One `WWW-Authenticate` challenge. */
export interface AuthChallenge {
  readonly scheme: 'basic' | 'bearer' | 'other';
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`
 * (quoted or token values, commas inside quotes kept). Only the first challenge is read: the
 * registries diploid talks to send one. Pure.
 */
export function parseChallenge(header: string): AuthChallenge {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  const scheme = (match?.[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  const pattern = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/g;
  for (const item of (match?.[2] ?? '').matchAll(pattern)) {
    const key = item[1];
    if (key === undefined) continue;
    params[key.toLowerCase()] = item[2] !== undefined ? item[2].replace(/\\(.)/g, '$1') : (item[3] ?? '');
  }
  return { scheme: scheme === 'basic' ? 'basic' : scheme === 'bearer' ? 'bearer' : 'other', params };
}

/** `Basic base64(user:password)`. Pure. */
export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** The token endpoint's URL for a challenge: realm plus service and the scope asked for. Pure. */
export function tokenUrl(challenge: AuthChallenge, scope: string): URL {
  const realm = challenge.params['realm'];
  if (realm === undefined || realm === '') throw new Error('the Bearer challenge names no realm');
  const url = new URL(realm);
  if (challenge.params['service'] !== undefined) url.searchParams.set('service', challenge.params['service']);
  url.searchParams.set('scope', challenge.params['scope'] ?? scope);
  return url;
}

/**
 * Credentials by registry host from a Docker `config.json` (`auths.<host>.auth` as base64
 * `user:password`, or `username` / `password`), as in the `kubernetes.io/dockerconfigjson`
 * Secret build Jobs push with. Pure.
 */
export function credentialsFromDockerConfig(json: string): Record<string, RegistryCredentials> {
  const parsed = JSON.parse(json) as { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  const result: Record<string, RegistryCredentials> = {};
  for (const [key, entry] of Object.entries(parsed.auths ?? {})) {
    const host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (entry.auth !== undefined) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) result[host] = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    } else if (entry.username !== undefined && entry.password !== undefined) {
      result[host] = { username: entry.username, password: entry.password };
    }
  }
  return result;
}
