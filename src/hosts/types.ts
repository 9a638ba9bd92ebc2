import type { HostProvider, ParsedDelivery } from './event.js';

/** A repository on a host, as the ops config names it. */
export interface RepoRef {
  /** Name of the `repos` entry. */
  readonly name: string;
  /** `group/project` (GitLab, any depth) or `owner/repo` (GitHub). */
  readonly path: string;
}

/** One branch and the commit it points at. */
export interface BranchHead {
  readonly branch: string;
  readonly sha: string;
}

/** Where a deploy of a commit stands; each maps to the host's own commit-status states. */
export type DeployPhase = 'pending' | 'building' | 'deployed' | 'failed';

/** A commit status as diploid reports it. */
export interface CommitStatus {
  readonly phase: DeployPhase;
  /** Environment name (`staging`, `preview-feature-x`); the status is named `diploid/<environment>`. */
  readonly environment: string;
  /** Branch the commit was pushed to; GitLab attaches the status to it. */
  readonly branch?: string;
  /** Link target: the environment URL for previews, else a link from the config. */
  readonly targetUrl?: string;
  /** Short text shown next to the status; a default per phase otherwise. */
  readonly description?: string;
}

/** The webhook diploid wants on a repository. */
export interface WebhookSpec {
  /** Public URL of the webhook endpoint for this repo. */
  readonly url: string;
  /** The repo's secret (see `deriveWebhookSecret`). Never logged. */
  readonly secret: string;
}

/** What registering did: hooks are matched by URL, so running it twice changes nothing. */
export interface WebhookRegistration {
  readonly action: 'created' | 'updated' | 'unchanged';
  readonly hookId: number;
}

/** A webhook delivery as it arrived: headers (lower-case names) and the raw body bytes. */
export interface WebhookDelivery {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** Where a verified delivery is attributed: the hook URL names host and repo. */
export interface DeliveryTarget {
  readonly host: string;
  readonly repo: string;
}

/**
 * Verifying and parsing a provider's webhooks. Pure: no network, no clock, so the webhook server
 * needs no API token, only the per-repo secret.
 */
export interface WebhookCodec {
  readonly provider: HostProvider;
  /** Whether the delivery carries this provider's event header (used to reject the other host's hooks early). */
  matches(delivery: WebhookDelivery): boolean;
  /** Constant-time check of the signature (GitHub) or token (GitLab) against the repo's secret. */
  verify(delivery: WebhookDelivery, secret: string): boolean;
  /** Turns a verified body into a normalized event; throws `MalformedPayloadError` on a bad body. */
  parse(delivery: WebhookDelivery, target: DeliveryTarget): ParsedDelivery;
}

/** One git host (an entry of `git.hosts`) reached through its REST API. */
export interface GitHost {
  readonly name: string;
  readonly provider: HostProvider;
  readonly webhooks: WebhookCodec;
  /** Creates the push/merge-request webhook, or updates the one already pointing at `spec.url`. */
  registerWebhook(repo: RepoRef, spec: WebhookSpec): Promise<WebhookRegistration>;
  /** Sets `diploid/<environment>` on a commit. */
  setCommitStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<void>;
  /** Every branch and its head commit: the truth webhooks only hint at. Sorted by branch name. */
  listBranchHeads(repo: RepoRef): Promise<BranchHead[]>;
}
