import * as k8s from '@kubernetes/client-node';
import { statusOf } from '../cluster/kube-client.js';
import { RetryableError, UserError } from '../errors.js';
import { parseStatus, STATUS_KEY, statusObjectName, type EnvironmentStatus } from './status.js';

/**
 * Changes one environment's status from outside the controller (rollback, promote, unpin):
 * read, edit, and replace with the read resourceVersion as precondition, so a write by the
 * controller in between is never overwritten: the edit is redone on the newer status.
 */
export async function editStatus(kube: k8s.KubeConfig, namespace: string, environment: string, edit: (status: EnvironmentStatus) => EnvironmentStatus): Promise<EnvironmentStatus> {
  const core = kube.makeApiClient(k8s.CoreV1Api);
  const name = statusObjectName(environment);
  for (let attempt = 0; attempt < 5; attempt++) {
    let current: k8s.V1ConfigMap;
    try {
      current = await core.readNamespacedConfigMap({ name, namespace });
    } catch (error) {
      if (statusOf(error) === 404) throw new UserError(`no environment "${environment}" in namespace ${namespace}: the controller has written no status for it`);
      throw error;
    }
    const status = parseStatus(current.data);
    if (status === undefined) throw new UserError(`ConfigMap ${namespace}/${name} holds no diploid status`);
    const next = edit(status);
    try {
      await core.replaceNamespacedConfigMap({ name, namespace, body: { ...current, data: { ...current.data, [STATUS_KEY]: `${JSON.stringify(next, null, 2)}\n` } } });
      return next;
    } catch (error) {
      // 409: the controller wrote in between; read again and redo the edit.
      if (statusOf(error) !== 409) throw error;
    }
  }
  throw new RetryableError(`the status of ${environment} kept changing under five attempts to edit it; try again`);
}
