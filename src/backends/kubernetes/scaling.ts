import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IMetricSpec } from 'kubernetes-models/autoscaling/v2/MetricSpec';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';
import { selectorLabels, serviceLabels } from './labels.js';
import type { Workload } from './workload.js';

export function autoscaler(app: ResolvedApp, service: ResolvedService, target: Workload): IHorizontalPodAutoscaler | undefined {
  if (service.replicas.kind !== 'auto') return undefined;
  const { min, max, cpu, memory } = service.replicas;
  const metrics: IMetricSpec[] = [];
  if (cpu !== undefined) metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } });
  if (memory !== undefined) metrics.push({ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: memory } } });
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: service.name, namespace: app.environment.namespace, labels: serviceLabels(app, service) },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: target.kind, name: service.name }, minReplicas: min, maxReplicas: max, metrics },
  };
}

export function disruptionBudget(app: ResolvedApp, service: ResolvedService): IPodDisruptionBudget | undefined {
  if (service.disruption === undefined) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: service.name, namespace: app.environment.namespace, labels: serviceLabels(app, service) },
    spec: { ...service.disruption, selector: { matchLabels: selectorLabels(app, service) } },
  };
}
