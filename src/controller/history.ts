/**
 * Deploy history and pins: what an environment ran before, so `diploid rollback` can go back to
 * it and `diploid promote` can copy it, without rebuilding and without turning the loop off.
 * Pure: the reconciler and the CLI keep these values in the environment's status ConfigMap.
 */

/** How many deployed revisions an environment's status keeps, newest first. */
export const HISTORY_LIMIT = 10;

/** One revision that was deployed to an environment. */
export interface DeployRecord {
  /** Hash of the objects deployed (the status' `appliedRevision` at the time). */
  readonly revision: string;
  /** The repo and commit whose push (or resync, rollback, promotion) deployed it. */
  readonly repo: string;
  readonly commit?: string;
  /**
   * Every repo's commit the objects were rendered from, `ops` included: rendering these again
   * gives the same objects and the same content-tagged images, so nothing is rebuilt.
   */
  readonly commits: Readonly<Record<string, string>>;
  /**
   * Image reference by service. Absent only on an older entry whose images did not fit the
   * status' budget (see `history-images.ts`): its commits still render them again.
   */
  readonly images?: Readonly<Record<string, string>>;
  /** ISO time the deploy finished. */
  readonly deployedAt: string;
  /** How it came: a push or resync of git, a rollback, or a promotion from another environment. */
  readonly cause: 'git' | 'rollback' | 'promotion';
  /** Who asked, when known: the operator of a rollback or promotion (`$USER@host`). */
  readonly by?: string;
}

/**
 * An environment held at recorded commits instead of its branch's head: set by `diploid rollback`
 * or `diploid promote`, ended by the next push to the environment's repos or `diploid unpin`.
 * While it holds, a resync deploys the pinned commits (drift is still undone), never the head.
 */
export interface Pin {
  /** Every repo's commit to render, as in `DeployRecord.commits`. */
  readonly commits: Readonly<Record<string, string>>;
  /** The revision expected from those commits, when known (a rollback names one). */
  readonly revision?: string;
  readonly reason: 'rollback' | 'promotion';
  /** For a promotion: the environment it came from. */
  readonly from?: string;
  readonly by?: string;
  /** ISO time it was set. */
  readonly at: string;
}

/** The history with `record` in front, at most `limit` long; the same revision deployed again moves to the front. */
export function recordDeploy(history: readonly DeployRecord[] | undefined, record: DeployRecord, limit = HISTORY_LIMIT): DeployRecord[] {
  const rest = (history ?? []).filter((item) => !(item.revision === record.revision && sameCommits(item.commits, record.commits)));
  return [record, ...rest].slice(0, limit);
}

/** The recorded revision to roll back to: the one named (a prefix of its hash), or the one before the newest. */
export function rollbackTarget(history: readonly DeployRecord[] | undefined, revision?: string): DeployRecord | { readonly problem: string } {
  const records = history ?? [];
  if (revision === undefined) {
    const target = records[1];
    return target ?? { problem: records.length === 0 ? 'no deploy is recorded yet' : 'only one revision is recorded: there is nothing earlier to go back to' };
  }
  const matches = records.filter((item) => item.revision.startsWith(revision));
  const unique = [...new Set(matches.map((item) => item.revision))];
  if (unique.length === 0) return { problem: `no recorded revision starts with "${revision}"; recorded: ${records.map((item) => item.revision.slice(0, 12)).join(', ') || 'none'}` };
  if (unique.length > 1) return { problem: `"${revision}" matches ${unique.length} revisions (${unique.map((item) => item.slice(0, 12)).join(', ')}); give more characters` };
  return matches[0]!;
}

/** True when two commit maps name the same commit for every repo. */
export function sameCommits(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}

/**
 * Whether a reconcile request ends the pin: a push (not a resync) that moves one of the pinned
 * repos past its pinned commit. A resync of the same heads keeps the environment where it is.
 */
export function pushEndsPin(pin: Pin, push: { readonly repo: string; readonly after?: string }, resync: boolean): boolean {
  if (resync) return false;
  const pinned = pin.commits[push.repo];
  return pinned === undefined || push.after !== pinned;
}

/**
 * Whether an environment whose config requires promotion may deploy now: only under a rollback
 * pin or a promotion from the environment the rule names. Pure.
 */
export function promotionVerdict(rule: { readonly from: string } | undefined, pin: Pin | undefined): { readonly allowed: true } | { readonly allowed: false; readonly reason: 'PromotionRequired' | 'PromotionRefused'; readonly message: string } {
  if (rule === undefined || pin?.reason === 'rollback') return { allowed: true };
  if (pin === undefined) return { allowed: false, reason: 'PromotionRequired', message: `deploys only by promotion: \`diploid promote --from ${rule.from} --to <this environment>\`; a push does not deploy it` };
  if (pin.from !== rule.from) return { allowed: false, reason: 'PromotionRefused', message: `promotion from ${pin.from ?? '?'} refused: the config allows promotion from ${rule.from} only` };
  return { allowed: true };
}
