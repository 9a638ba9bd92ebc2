import { RetryableError, TerminalError } from '../errors.js';

/** The manifest types a registry may hold for one tag; asking for all of them avoids a 404 for the "wrong" kind. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** `registry.example.com:5000/team/app:tag` split into where it lives and what it is. */
export interface ImageRef {
  readonly host: string;
  readonly name: string;
  readonly tag: string;
}

/** Splits an image reference; a reference without a registry host is on Docker Hub. Pure. */
export function parseImageRef(ref: string): ImageRef {
  const withoutDigest = ref.split('@')[0] ?? ref;
  const slash = withoutDigest.indexOf('/');
  const first = slash < 0 ? '' : withoutDigest.slice(0, slash);
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = hasHost ? first : 'registry-1.docker.io';
  let path = hasHost ? withoutDigest.slice(slash + 1) : withoutDigest;
  const colon = path.lastIndexOf(':');
  let tag = 'latest';
  if (colon > path.lastIndexOf('/')) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  const name = hasHost || path.includes('/') ? path : `library/${path}`;
  return { host, name, tag };
}

/** Asks an image registry whether it holds an image; the builder skips what exists. */
export interface RegistryClient {
  /** True when the registry answers the manifest of `ref`; throws `RetryableError` when it cannot tell. */
  hasManifest(ref: string): Promise<boolean>;
}

export interface HttpRegistryOptions {
  /** Hosts reached over plain HTTP (a registry on loopback or inside the cluster); others use HTTPS. */
  readonly plainHttp?: readonly string[];
  /** `Authorization` header value by registry host, e.g. `Basic ...`; never logged. */
  readonly authorization?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/**
 * A registry reached through the distribution v2 API: `HEAD /v2/<name>/manifests/<tag>`. 200 means
 * present, 404 absent; anything else (5xx, a timeout, no answer) is retried later rather than
 * taken as "absent", which would start a needless build.
 */
export class HttpRegistryClient implements RegistryClient {
  constructor(private readonly options: HttpRegistryOptions = {}) {}

  async hasManifest(ref: string): Promise<boolean> {
    const image = parseImageRef(ref);
    const loopback = /^(localhost|127\.|\[::1\])/.test(image.host);
    const scheme = loopback || this.options.plainHttp?.includes(image.host) === true ? 'http' : 'https';
    const url = `${scheme}://${image.host}/v2/${image.name}/manifests/${encodeURIComponent(image.tag)}`;
    const authorization = this.options.authorization?.[image.host];
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'HEAD',
        headers: { accept: MANIFEST_ACCEPT, ...(authorization === undefined ? {} : { authorization }) },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (error) {
      throw new RetryableError(`registry ${image.host} did not answer for ${image.name}:${image.tag}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    if (response.status === 401 || response.status === 403) throw new TerminalError('RegistryUnauthorized', `registry ${image.host} refused to say whether it has ${image.name}:${image.tag} (${response.status}); give the controller credentials for it`);
    throw new RetryableError(`registry ${image.host} answered ${response.status} for ${image.name}:${image.tag}`);
  }
}
