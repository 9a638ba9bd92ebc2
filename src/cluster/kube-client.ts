import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { UserError } from '../errors.js';

/**
 * A KubeConfig whose requests share keep-alive connections. client-node makes a new HTTPS agent
 * for every request, so every API call paid a TLS handshake: in a profile of a push at 1000
 * services, handshakes took more CPU than planning. Agents are reused per TLS settings; an agent
 * of another kind (a proxy's) is left as client-node made it.
 */
export class PooledKubeConfig extends k8s.KubeConfig {
  private readonly agents = new Map<string, Agent>();

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const made = context.getAgent();
    if (made === undefined || made.constructor !== Agent) return;
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = (made as Agent).options;
    // A digest of the key material: JSON of the CA's Buffer (read again from its file for every
    // request) cost more than the rest of a request's CPU at 1000 services.
    const digest = createHash('sha256');
    for (const part of [ca, cert, key, pfx]) digest.update(material(part)).update('\0');
    const id = JSON.stringify([this.getCurrentCluster()?.server, digest.digest('hex'), passphrase, rejectUnauthorized, servername]);
    let agent = this.agents.get(id);
    if (agent === undefined) {
      agent = new Agent({ ...(made as Agent).options, keepAlive: true, maxSockets: 16 });
      this.agents.set(id, agent);
    }
    made.destroy();
    context.setAgent(agent);
  }
}

/** TLS key material as bytes to hash: a string, a Buffer, or a list of either (as `https.Agent` takes them). */
function material(value: unknown): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value);
  if (Array.isArray(value)) return Buffer.concat(value.flatMap((item) => [material(item), Buffer.from('\0')]));
  return Buffer.from(JSON.stringify(value));
}

/** A client for the cluster of a kubeconfig file, or of the default kubeconfig when none is given. */
export function kubeConfigFrom(path?: string): k8s.KubeConfig {
  const config = new PooledKubeConfig();
  try {
    if (path === undefined) config.loadFromDefault();
    else config.loadFromFile(path);
  } catch (error) {
    throw new UserError(`cannot read the kubeconfig ${path ?? '(default)'}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (config.getCurrentCluster() === null) throw new UserError(`the kubeconfig ${path ?? '(default)'} names no current cluster; pass --kubeconfig or set KUBECONFIG`);
  return config;
}

const objectClients = new WeakMap<k8s.KubeConfig, k8s.KubernetesObjectApi>();

/**
 * One generic object client per kubeconfig: it caches the API discovery it does to map a kind to
 * its resource, so sharing it saves a discovery request per API group on every apply and wait.
 */
export function objectClient(config: k8s.KubeConfig): k8s.KubernetesObjectApi {
  let client = objectClients.get(config);
  if (client === undefined) {
    client = k8s.KubernetesObjectApi.makeApiClient(config);
    objectClients.set(config, client);
  }
  return client;
}

/** HTTP status of a failed API call, if it was one. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof k8s.ApiException ? error.code : undefined;
}

/** The API server's own explanation of a failed call, without request details or credentials. */
export function reasonOf(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const body = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    const message = body !== null && typeof body === 'object' && 'message' in body ? String((body as { message: unknown }).message) : undefined;
    return `${error.code}${message === undefined ? '' : ` ${message}`}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}
