/**
 * A build's log: read from its Job's pod (buildctl's plain progress), and what a failure says:
 * the Dockerfile step that failed and the last lines before it ended.
 */
import * as k8s from '@kubernetes/client-node';

/** What a failed build's log says. */
export interface BuildFailure {
  /** The step that failed, as BuildKit names it (`[2/3] RUN npm test`), when the log names one. */
  readonly step?: string;
  /** The last lines of the log. */
  readonly tail: string;
}

/**
 * Reads buildctl's `--progress=plain` output: steps are `#N <name>` lines, a failed one has a
 * `#N ERROR: ...` line. The failing step is the last vertex with an ERROR. Pure.
 */
export function buildFailure(log: string, tailLines = 20): BuildFailure {
  const lines = log.replace(/\r/g, '').split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const tail = lines.slice(-tailLines).join('\n');
  const names = new Map<string, string>();
  for (const line of lines) {
    const header = /^#(\d+) (\[.*|\S.*)$/.exec(line);
    if (header === null) continue;
    const [, id, rest] = header;
    if (id === undefined || rest === undefined || names.has(id)) continue;
    // The first line of a vertex is its name; later ones are its output, times and DONE/ERROR.
    if (/^(\d+(\.\d+)?s? |DONE|ERROR|CACHED|sha256:|transferring|resolve |extracting|exporting|pushing|writing|naming)/.test(rest)) continue;
    names.set(id, rest);
  }
  // The last ERROR is the one that ended the build: earlier ones can be harmless (a layer cache
  // not found in the registry yet is reported as an ERROR and the build goes on).
  const failed = lines.map((line) => /^#(\d+) ERROR: /.exec(line)?.[1]).filter((id) => id !== undefined).pop();
  const step = failed === undefined ? undefined : names.get(failed);
  return step === undefined ? { tail } : { step, tail };
}

/** The log of a build Job's pod (its only container), or undefined when the pod is gone. */
export async function readBuildLog(config: k8s.KubeConfig, namespace: string, jobName: string): Promise<string | undefined> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${jobName}` });
  const pod = [...pods.items].sort((a, b) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')))[0];
  const name = pod?.metadata?.name;
  if (name === undefined) return undefined;
  return core.readNamespacedPodLog({ name, namespace, container: 'build' });
}

/** A build Job found for `diploid logs build`. */
export interface FoundBuild {
  readonly job: string;
  readonly image?: string;
  readonly commit?: string;
  readonly state: 'running' | 'complete' | 'failed';
  readonly log?: string;
}

/**
 * The newest build Job of `service` in `namespace` (of `environment`, when given), with its log.
 * Undefined when there is none: builds are kept a day after they finish.
 */
export async function latestBuild(config: k8s.KubeConfig, namespace: string, service: string, environment?: string): Promise<FoundBuild | undefined> {
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const selector = [`diploid.dev/build=${service}`, ...(environment === undefined ? [] : [`diploid.dev/environment=${environment}`])].join(',');
  const jobs = await batch.listNamespacedJob({ namespace, labelSelector: selector });
  const newest = [...jobs.items].sort((a, b) => new Date(String(b.metadata?.creationTimestamp ?? 0)).getTime() - new Date(String(a.metadata?.creationTimestamp ?? 0)).getTime())[0];
  const name = newest?.metadata?.name;
  if (newest === undefined || name === undefined) return undefined;
  const conditions = newest.status?.conditions ?? [];
  const state = conditions.some((c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True')
    ? 'failed'
    : conditions.some((c) => (c.type === 'Complete' || c.type === 'SuccessCriteriaMet') && c.status === 'True')
      ? 'complete'
      : 'running';
  const annotations = newest.metadata?.annotations ?? {};
  const log = await readBuildLog(config, namespace, name);
  return {
    job: name,
    state,
    ...(annotations['diploid.dev/image'] === undefined ? {} : { image: annotations['diploid.dev/image'] }),
    ...(annotations['diploid.dev/commit'] === undefined ? {} : { commit: annotations['diploid.dev/commit'] }),
    ...(log === undefined ? {} : { log }),
  };
}
