import * as k8s from '@kubernetes/client-node';
import { statusOf } from './kube-client.js';

/**
 * Creates a namespace unless it exists, labelled as diploid's. An existing namespace is left as
 * it is (someone may have created it on purpose, with their own labels). Returns whether it was created.
 */
export async function ensureNamespace(config: k8s.KubeConfig, name: string): Promise<boolean> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  try {
    await core.readNamespace({ name });
    return false;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  try {
    await core.createNamespace({ body: { metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'diploid' } } } });
    return true;
  } catch (error) {
    // Created by someone else between the read and the create: it exists, which is all we need.
    if (statusOf(error) === 409) return false;
    throw error;
  }
}
