import * as k8s from '@kubernetes/client-node';
import { UserError } from '../errors.js';

/** A client for the cluster of a kubeconfig file, or of the default kubeconfig when none is given. */
export function kubeConfigFrom(path?: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
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
