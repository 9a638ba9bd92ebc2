import { instanceLabel } from '../../model/kubernetes-names.js';
import type { ResolvedApp, ResolvedService } from '../../resolve/model.js';

export const MANAGED_BY = 'diploid';
export const ENVIRONMENT_LABEL = 'diploid.dev/environment';

/** Labels that select a service's pods; they never change, because selectors are immutable. */
export function selectorLabels(app: ResolvedApp, service: ResolvedService): Record<string, string> {
  return {
    'app.kubernetes.io/instance': instanceLabel(service.name, app.environment.name),
    'app.kubernetes.io/name': service.name,
  };
}

/** The standard labels every object of a service carries, plus the user's own. */
export function serviceLabels(app: ResolvedApp, service: ResolvedService): Record<string, string> {
  return sortKeys({
    ...service.labels,
    ...selectorLabels(app, service),
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/part-of': app.project,
    [ENVIRONMENT_LABEL]: app.environment.name,
  });
}

export function sortKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
