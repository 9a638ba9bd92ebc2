import type { ConfigProblem } from '../errors.js';
import type { AppSources } from '../resolve/sources.js';

/** The name the ops repo goes by in pushes and plans; service repos use their name under `repos`. */
export const OPS_REPO = 'ops';

/** A push as the planner sees it. */
export interface Push {
  /** `ops`, or a name under `repos`. */
  readonly repo: string;
  readonly branch: string;
  /** The branch's previous head; undefined for a new branch. */
  readonly before?: string;
  /** The branch's new head; undefined when the branch was deleted. */
  readonly after?: string;
}

/** One repo at one commit: the git object id of every path (`.` is the root tree). */
export interface RepoSnapshot {
  readonly commit: string;
  readonly objects: ReadonlyMap<string, string>;
}

/** Everything at one moment: the loaded files and the repos they came from. */
export interface AppState {
  readonly sources: AppSources;
  /** By repo name, the ops repo as `ops`. */
  readonly repos: Readonly<Record<string, RepoSnapshot>>;
  /** Files that could not be evaluated; they fail the environment. */
  readonly problems: readonly ConfigProblem[];
}

/** What a preview rule asks for, as the plan carries it. */
export interface PreviewSettings {
  readonly mode: 'full' | 'single';
  readonly base: string;
  readonly baseNamespace: string;
  readonly ttl?: string;
}

/** An environment that exists now (in the cluster, as the controller knows it). */
export interface CurrentEnvironment {
  readonly name: string;
  readonly namespace: string;
  /** The branch a preview was made for. */
  readonly branch?: string;
  readonly preview?: { readonly mode: 'full' | 'single'; readonly base: string; readonly ttl?: string };
  /** ISO time of the last push that updated it; previews expire `ttl` after it. */
  readonly updatedAt?: string;
}

/** An environment a push concerns, before any state is read. */
export interface PlanTarget {
  /** Environment name: one of the config's, or a preview's. */
  readonly name: string;
  readonly namespace?: string;
  /** The branch whose heads feed it: each repo at this branch when it has it, else at its default branch; undefined: every repo at its default branch. */
  readonly branch?: string;
  readonly preview?: { readonly mode: 'full' | 'single'; readonly base: string; readonly ttl?: string };
  /** Teardown of a preview whose branch is gone. */
  readonly teardown?: boolean;
  /** Why this environment is in the plan. */
  readonly reason: string;
}

/** An image to build; the executor skips it when the registry already has `ref`. */
export interface ImageBuild {
  readonly service: string;
  readonly repo: string;
  readonly commit: string;
  readonly context: string;
  readonly dockerfile: string;
  /** True when diploid writes the Dockerfile (the `spa` preset). */
  readonly inlineDockerfile: boolean;
  readonly args: Readonly<Record<string, string>>;
  readonly target?: string;
  /** Content-addressed: the same inputs give the same tag. */
  readonly tag: string;
  readonly ref: string;
}

/** A service of a `single` preview that stays in the base environment, reached by name from the preview. */
export interface ReusedService {
  readonly service: string;
  readonly namespace: string;
}

export type EnvironmentAction = 'create' | 'update' | 'delete' | 'failed';

/** What happens to one environment. */
export interface EnvironmentPlan {
  readonly name: string;
  readonly namespace: string;
  readonly action: EnvironmentAction;
  readonly branch?: string;
  readonly reason: string;
  readonly preview?: PreviewSettings;
  /** Sorted by service. */
  readonly builds: readonly ImageBuild[];
  /** Services (re)deployed, sorted. */
  readonly deploy: readonly string[];
  /** Services that are gone from the environment, sorted. */
  readonly remove: readonly string[];
  readonly reuse: readonly ReusedService[];
  /** Why the environment failed: the files and what is wrong in them. */
  readonly problems: readonly ConfigProblem[];
}

/** The plan for one push: only environments with something to do; `notes` say why others have nothing. */
export interface Plan {
  readonly push: Push;
  readonly environments: readonly EnvironmentPlan[];
  readonly notes: readonly string[];
}
