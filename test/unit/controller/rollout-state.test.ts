import { describe, expect, it } from 'vitest';
import { rolloutState } from '../../../src/cluster/rollout.js';

type Case = [what: string, workload: Parameters<typeof rolloutState>[1], verdict: 'done' | 'waiting' | 'stalled', reason?: RegExp];

const progressing = (reason: string) => ({ conditions: [{ type: 'Progressing', status: reason === 'ProgressDeadlineExceeded' ? 'False' : 'True', reason, message: 'ReplicaSet "web-2" has timed out progressing.' }] });

/** The rollout verdict of each workload kind, as `kubectl rollout status` would give it (kstatus-style table). */
const table: Record<string, Case[]> = {
  Deployment: [
    ['its controller has not seen the new generation', { metadata: { generation: 3 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } }, 'waiting', /not seen the new version/],
    ['new pods are still being created', { metadata: { generation: 2 }, spec: { replicas: 3 }, status: { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 } }, 'waiting', /1 of 3 replicas updated/],
    ['old pods are still terminating', { metadata: { generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 } }, 'waiting', /1 old replicas are still terminating/],
    ['new pods are not available yet', { metadata: { generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 } }, 'waiting', /1 of 2 replicas available/],
    ['the progress deadline passed (the old ReplicaSet keeps serving)', { metadata: { generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2, ...progressing('ProgressDeadlineExceeded') } }, 'stalled', /did not become ready in time/],
    ['every pod runs the new version', { metadata: { generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2, ...progressing('NewReplicaSetAvailable') } }, 'done'],
    ['scaled to zero', { metadata: { generation: 2 }, spec: { replicas: 0 }, status: { observedGeneration: 2 } }, 'done'],
  ],
  // A Recreate Deployment stops every old pod before starting new ones: in between, nothing serves.
  'Deployment (Recreate)': [
    ['old pods stopped, new ones not yet created', { metadata: { generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 2, replicas: 0, updatedReplicas: 0, availableReplicas: 0 } }, 'waiting', /0 of 1 replicas updated/],
    ['the new pod exists but is not available', { metadata: { generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 } }, 'waiting', /0 of 1 replicas available/],
    ['the new pod never became ready before the deadline', { metadata: { generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0, ...progressing('ProgressDeadlineExceeded') } }, 'stalled'],
    ['the new pod serves', { metadata: { generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 } }, 'done'],
  ],
  StatefulSet: [
    ['its controller has not seen the new generation', { metadata: { generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 1, readyReplicas: 2 } }, 'waiting', /not seen/],
    ['a pod is not ready', { metadata: { generation: 2 }, spec: { replicas: 3 }, status: { observedGeneration: 2, readyReplicas: 2, updatedReplicas: 1, currentRevision: 'db-1', updateRevision: 'db-2' } }, 'waiting', /2 of 3 replicas ready/],
    ['all ready, but pods still run the old revision', { metadata: { generation: 2 }, spec: { replicas: 3 }, status: { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 2, currentRevision: 'db-1', updateRevision: 'db-2' } }, 'waiting', /2 of 3 replicas updated to revision db-2/],
    ['a partition holds back the lowest pods: done once those above it are updated', { metadata: { generation: 2 }, spec: { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, status: { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 2, currentRevision: 'db-1', updateRevision: 'db-2' } }, 'done'],
    ['a partition, and fewer updated than above it', { metadata: { generation: 2 }, spec: { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, status: { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 } }, 'waiting', /1 of 2 replicas above the partition/],
    ['every pod at the update revision and ready', { metadata: { generation: 2 }, spec: { replicas: 3 }, status: { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3, currentRevision: 'db-2', updateRevision: 'db-2' } }, 'done'],
    // No progress deadline: a replaced pod that never becomes ready waits until diploid's timeout.
    ['the highest pod was replaced and never becomes ready', { metadata: { generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, readyReplicas: 1, updatedReplicas: 1, currentRevision: 'db-1', updateRevision: 'db-2' } }, 'waiting', /1 of 2 replicas ready/],
    ['OnDelete: done once every pod is ready, whatever revision it runs', { metadata: { generation: 2 }, spec: { replicas: 2, updateStrategy: { type: 'OnDelete' } }, status: { observedGeneration: 2, readyReplicas: 2, updatedReplicas: 0, currentRevision: 'db-1', updateRevision: 'db-2' } }, 'done'],
    ['restored: the previous revision is the update revision again and every pod is ready', { metadata: { generation: 3 }, spec: { replicas: 2 }, status: { observedGeneration: 3, readyReplicas: 2, updatedReplicas: 2, currentRevision: 'db-1', updateRevision: 'db-1' } }, 'done'],
  ],
  DaemonSet: [
    ['its controller has not seen the new generation', { metadata: { generation: 5 }, status: { observedGeneration: 4, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 } }, 'waiting'],
    ['a node still runs the old pod', { metadata: { generation: 5 }, status: { observedGeneration: 5, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3 } }, 'waiting', /2 of 3 hosts updated/],
    ['an updated pod is not available', { metadata: { generation: 5 }, status: { observedGeneration: 5, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 } }, 'waiting', /2 of 3 hosts available/],
    ['every node runs the new pod', { metadata: { generation: 5 }, status: { observedGeneration: 5, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 } }, 'done'],
    // One host: its old pod stopped before the new one started, and the new one never becomes ready.
    ['the only host runs the new pod, which never becomes ready', { metadata: { generation: 2 }, status: { observedGeneration: 2, desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 0 } }, 'waiting', /0 of 1 hosts available/],
    ['no host matches', { metadata: { generation: 2 }, status: { observedGeneration: 2, desiredNumberScheduled: 0 } }, 'done'],
  ],
};

describe.each(Object.entries(table))('rollout state of a %s', (label, cases) => {
  const kind = label.split(' ')[0]!;
  it.each(cases)('%s', (_what, workload, verdict, reason) => {
    const state = rolloutState(kind, workload);
    const got = state.done ? 'done' : state.stalled ? 'stalled' : 'waiting';
    expect(got).toBe(verdict);
    if (reason !== undefined && !state.done) expect(state.reason).toMatch(reason);
  });
});
