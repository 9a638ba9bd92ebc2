/**
 * Images an example pulls and never builds (a vendor's), which no public registry serves here:
 * the example names a stand-in for each in `bed-images.json` (image -> the repo and folder it is
 * built from), and `diploid up` builds the missing ones on the bed with the same BuildKit build
 * Jobs the controller uses, into the bed's registry under the image's path (the bed's containerd
 * resolves the image's registry to its own).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import { DEFAULT_BUILDER_IMAGE, type BuildRequest } from '../../cluster/build-job.js';
import { HttpRegistryClient, parseImageRef } from '../../cluster/registry.js';
import { JobImageBuilder } from '../../controller/builder.js';
import { UserError } from '../../errors.js';

export const STAND_INS_FILE = 'bed-images.json';

const standInsSchema = z.record(z.string(), z.strictObject({ repo: z.string().min(1), context: z.string().min(1), dockerfile: z.string().optional() }));

/** Reads `<dir>/bed-images.json`; none when the file is absent. */
export function readStandIns(dir: string): z.infer<typeof standInsSchema> {
  const file = join(dir, STAND_INS_FILE);
  if (!existsSync(file)) return {};
  const parsed = standInsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new UserError(`${file}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`).join('; ')}; expected { "IMAGE": { "repo": NAME, "context": FOLDER } }`);
  return parsed.data;
}

export interface StandInOptions {
  readonly kube: k8s.KubeConfig;
  readonly dir: string;
  /** Registries the bed's containerd resolves to its own registry. */
  readonly mirrored: readonly string[];
  /** The bed's registry as pods reach it. */
  readonly registry: string;
  readonly namespace: string;
  /** Repo name -> clone URL and pushed commit. */
  readonly repos: Readonly<Record<string, { url: string; commit: string }>>;
  readonly log: (line: string) => void;
}

/** Builds the stand-ins the bed's registry lacks, one Job each, and waits for them. */
export async function ensureStandIns(options: StandInOptions): Promise<void> {
  const builder = new JobImageBuilder(options.kube, new HttpRegistryClient({ plainHttp: [options.registry] }), {
    namespace: options.namespace,
    image: DEFAULT_BUILDER_IMAGE,
    buildkitdConfig: 'diploid-buildkitd',
    plainHttpRegistries: [options.registry],
  }, 15 * 60_000);
  const file = join(options.dir, STAND_INS_FILE);
  await Promise.all(Object.entries(readStandIns(options.dir)).map(async ([image, from]) => {
    const parsed = parseImageRef(image);
    if (!options.mirrored.includes(parsed.host)) throw new UserError(`${file} "${image}": the bed resolves only ${options.mirrored.join(', ')} to its registry`);
    const repo = options.repos[from.repo];
    if (repo === undefined) throw new UserError(`${file} "${image}".repo: no repo "${from.repo}" in the ops config`);
    const ref = `${options.registry}/${parsed.name}:${parsed.tag}`;
    if (await builder.has(ref)) return;
    const request: BuildRequest = {
      repoUrl: repo.url,
      build: { service: parsed.name.split('/').pop() ?? 'stand-in', repo: from.repo, commit: repo.commit, context: from.context, dockerfile: from.dockerfile ?? 'Dockerfile', inlineDockerfile: false, args: {}, tag: parsed.tag, ref },
    };
    options.log(`building the stand-in for ${image} from ${from.repo}/${from.context} (${ref})`);
    await builder.start(request);
    await builder.wait(request);
    options.log(`stand-in for ${image} built`);
  }));
}
