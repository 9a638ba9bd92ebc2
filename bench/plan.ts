import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** A plan over 1000 services should take under this long once the ops repo is loaded. */
export const PLAN_TARGET_MS = 200;

export type PlanResult =
  | { readonly available: false; readonly reason: string }
  | {
      readonly available: true;
      readonly services: number;
      /** What the push changed, in words. */
      readonly changed: string;
      readonly loadMs: number;
      /** Planning alone, after the commits were loaded. */
      readonly planMs: number;
      readonly commandMs: number;
    };

export interface PlanOptions {
  readonly root: string;
  readonly work: string;
  readonly runs: number;
  readonly services: number;
}

/** Times `diploid plan` on a push to an ops repo of `services` services. */
export async function benchPlan(options: PlanOptions): Promise<PlanResult> {
  if (!existsSync(join(options.root, 'dist/cli/commands/plan.js'))) return { available: false, reason: 'no `diploid plan` command in dist/ yet' };
  return { available: false, reason: 'the plan benchmark does not know this version of `diploid plan`' };
}
