import type * as k8s from '@kubernetes/client-node';
import { runBuildJob, type BuildJobSettings, type BuildRequest } from '../cluster/build-job.js';
import type { RegistryClient } from '../cluster/registry.js';

/** Makes sure images exist: the reconciler asks first, and builds only what is missing. */
export interface ImageBuilder {
  /** Whether the registry already holds `ref` (content tags: same tag, same inputs). */
  has(ref: string): Promise<boolean>;
  /** Builds and pushes one image; throws `TerminalError` (reason `BuildFailed`) when the build fails. */
  build(request: BuildRequest): Promise<{ created: boolean }>;
}

/** Builds with a Kubernetes Job per image (kaniko), after asking the registry. */
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

  build(request: BuildRequest): Promise<{ created: boolean }> {
    return runBuildJob(this.config, request, this.settings, { timeoutMs: this.timeoutMs });
  }
}
