import type { ResolvedApp } from '../resolve/model.js';
import type { EnvironmentPlan } from './types.js';

/**
 * The app a `single` preview deploys: only the services the plan deploys, plus the reused ones,
 * which backends turn into names pointing at the base environment.
 */
export function previewApp(app: ResolvedApp, plan: EnvironmentPlan): ResolvedApp {
  if (plan.preview?.mode !== 'single') return app;
  const reused = new Set(plan.reuse.map((item) => item.service));
  return { ...app, services: app.services.filter((service) => !reused.has(service.name)), reused: plan.reuse };
}
