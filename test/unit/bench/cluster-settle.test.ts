/**
 * How the push bench tells a cluster at rest from one still working (bench/cluster-settle.mjs),
 * on lines of the bed's own kube-apiserver and kube-controller-manager /metrics.
 */
import { describe, expect, it } from 'vitest';
import { controllerManagerWork, describeWrites, writesBetween, writesFromMetrics } from '../../../bench/cluster-settle.mjs';

// Copied from the bed's kube-apiserver v1.36.3 /metrics.
const line = (code: string, group: string, resource: string, subresource: string, verb: string, count: number) =>
  `apiserver_request_total{code="${code}",component="apiserver",dry_run="",group="${group}",resource="${resource}",scope="resource",subresource="${subresource}",verb="${verb}",version="v1"} ${count}`;

function apiServerMetrics(events: number, deploymentStatus: number, leases: number): string {
  return [
    '# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    '# TYPE apiserver_request_total counter',
    line('200', '', 'events', '', 'PATCH', 6),
    line('201', '', 'events', '', 'POST', events),
    line('200', '', 'nodes', '', 'GET', 90),
    line('200', '', 'nodes', 'status', 'PATCH', 5 + leases),
    line('200', 'coordination.k8s.io', 'leases', '', 'PUT', 10 + leases),
    line('201', 'authentication.k8s.io', 'tokenreviews', '', 'POST', 3 + leases),
    line('201', '', 'serviceaccounts', 'token', 'POST', 2 + leases),
    line('200', 'apps', 'deployments', 'status', 'PUT', deploymentStatus),
    line('409', 'apps', 'deployments', 'status', 'PUT', 2),
    line('200', 'apps', 'deployments', '', 'APPLY', 1000),
    line('200', 'apps', 'deployments', '', 'LIST', 12),
    'apiserver_request_sli_duration_seconds_count{component="apiserver",group="",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 99',
  ].join('\n');
}

describe('the API server writes the bench waits out', () => {
  it('counts every write by verb and resource, conflicts included, and leaves out reads and heartbeats', () => {
    const writes = writesFromMetrics(apiServerMetrics(9, 40, 0));
    expect(Object.fromEntries(writes)).toEqual({
      'PATCH core/events': 6,
      'POST core/events': 9,
      'PUT apps/deployments/status': 42,
      'APPLY apps/deployments': 1000,
    });
  });

  it('sees Events still being written where only heartbeats went on', () => {
    const before = writesFromMetrics(apiServerMetrics(9, 40, 0));
    // Ten seconds of kube-controller-manager writing its Event backlog, nodes and Leases beating.
    const backlog = writesBetween(before, writesFromMetrics(apiServerMetrics(209, 40, 4)));
    expect(Object.fromEntries(backlog)).toEqual({ 'POST core/events': 200 });
    expect(describeWrites(backlog)).toBe('200 POST core/events');
    // Then only heartbeats: nothing.
    const quiet = writesBetween(writesFromMetrics(apiServerMetrics(209, 40, 4)), writesFromMetrics(apiServerMetrics(209, 40, 9)));
    expect(quiet.size).toBe(0);
  });
});

describe("kube-controller-manager's work", () => {
  const metrics = (deploymentDepth: number, working: number) => [
    '# TYPE workqueue_depth gauge',
    `workqueue_depth{name="deployment"} ${deploymentDepth}`,
    'workqueue_depth{name="replicaset"} 0',
    `workqueue_unfinished_work_seconds{name="deployment"} ${working}`,
    'workqueue_unfinished_work_seconds{name="replicaset"} 0',
    'workqueue_adds_total{name="deployment"} 5123',
  ].join('\n');

  it('names the queues holding items or processing one', () => {
    expect(Object.fromEntries(controllerManagerWork(metrics(945, 0.7)))).toEqual({ deployment: '945 queued, working 0.7 s' });
    expect(Object.fromEntries(controllerManagerWork(metrics(0, 0.25)))).toEqual({ deployment: 'working 0.3 s' });
    expect(controllerManagerWork(metrics(0, 0)).size).toBe(0);
  });

  it('refuses metrics without work queues rather than calling the controller manager idle', () => {
    expect(() => controllerManagerWork('process_cpu_seconds_total 12\n')).toThrow(/no workqueue_depth/);
  });
});
