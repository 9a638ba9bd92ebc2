import type * as k8s from '@kubernetes/client-node';
import { startBuildJob, waitForBuildJob, type BuildJobSettings, type BuildRequest } from '../cluster/build-job.js';
import type { RegistryClient } from '../cluster/registry.js';

/** Makes sure images exist: the reconciler asks first, and builds only what is missing. */
export interface ImageBuilder {
  /** Whether the registry already holds `ref` (content tags: same tag, same inputs). */
  has(ref: string): Promise<boolean>;
  /** Starts building and pushing one image; `created` is false when the same build was started before. */
  start(request: BuildRequest): Promise<{ created: boolean }>;
  /** Waits for a started build; throws `TerminalError` (reason `BuildFailed`) when it failed. */
  wait(request: BuildRequest): Promise<void>;
}

/** Builds with a Kubernetes Job per image (BuildKit), after asking the registry. */
export class JobImageBuilder implements ImageBuilder {
  constructor(
    private readonly config: k8s.KubeConfig,
    private readonly registry: RegistryClient,
    readonly settings: BuildJobSettings,
    private readonly timeoutMs = 30 * 60_000,
  ) {}

  has(ref: string): Promise<boolean> {
    return this.registry.hasManifest(ref);
  }

  start(request: BuildRequest): Promise<{ created: boolean }> {
    return startBuildJob(this.config, request, this.settings);
  }

  wait(request: BuildRequest): Promise<void> {
    return waitForBuildJob(this.config, request.build, this.settings, { timeoutMs: this.timeoutMs });
  }
}
