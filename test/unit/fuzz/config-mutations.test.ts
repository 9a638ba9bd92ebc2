import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeBackend } from '../../../src/backends/compose/backend.js';
import { kubernetesBackend } from '../../../src/backends/kubernetes/backend.js';
import { kubernetesSchemaProblems } from '../../../src/backends/kubernetes/schema-problems.js';
import { ConfigError, UserError, type ConfigProblem } from '../../../src/errors.js';
import { checkApp, environmentNames, resolveApp, type AppSources } from '../../../src/resolve/index.js';
import { loadOpsDir } from '../../../src/sources/load-dir.js';
import { goldenCases, SHOP_EXAMPLE } from '../../support/golden.js';
import { mutation, random } from './mutate.js';

/**
 * Hundreds of seeded mutations of valid ops repos (every golden case and the shop example),
 * each run in-process through what `validate` and `render` run: validation, resolution, both
 * backends and the Kubernetes schema check. A mutation may be refused, with problems that name a
 * file and a path, or may still compile; it may never crash or hang. Same seed, same run;
 * `DIPLOID_FUZZ_SEED` and `DIPLOID_FUZZ_COUNT` explore further.
 */
const SEED = Number(process.env.DIPLOID_FUZZ_SEED ?? 0x5eed);
const COUNT = Number(process.env.DIPLOID_FUZZ_COUNT ?? 600);

interface Outcome {
  readonly problems: readonly ConfigProblem[];
  readonly rendered: boolean;
}

/** What `validate` then `render` of every environment do, minus the file system. */
async function exercise(sources: AppSources): Promise<Outcome> {
  try {
    const problems = checkApp(sources);
    if (problems.length > 0) return { problems, rendered: false };
    for (const environment of environmentNames(sources)) {
      const app = resolveApp(sources, { environment });
      const refused = await kubernetesSchemaProblems(app, sources.config.file);
      if (refused.length > 0) return { problems: refused, rendered: false };
      kubernetesBackend.render(app, 'yaml');
      composeBackend.render(app, 'yaml');
    }
    return { problems: [], rendered: true };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems, rendered: false };
    // A plain UserError is a located-enough refusal only if it names a file; count it as a problem without a path.
    if (error instanceof UserError) return { problems: [{ file: '', path: '', message: error.message }], rendered: false };
    throw error;
  }
}

function clone(sources: AppSources): { config: Record<string, unknown>; services: unknown[] } {
  return { config: structuredClone(sources.config.value) as Record<string, unknown>, services: sources.services.map((entry) => structuredClone(entry.document.value)) };
}

describe('config mutations (fuzz)', () => {
  it(`${COUNT} seeded mutations: no crash, no hang, every problem names a file and a path`, { timeout: 300_000 }, async () => {
    const bases: AppSources[] = [];
    for (const golden of [...goldenCases(), { opsDir: join(SHOP_EXAMPLE, 'ops') }]) {
      const loaded = await loadOpsDir(golden.opsDir, 'reposDir' in golden && golden.reposDir ? { reposDir: golden.reposDir } : {});
      expect(loaded.problems).toEqual([]);
      bases.push(loaded.sources);
    }
    const next = random(SEED);
    const crashes: string[] = [];
    const unlocated: string[] = [];
    let refused = 0;
    let rendered = 0;
    let problemCount = 0;
    let slowest = { ms: 0, description: '' };
    const kinds = new Map<string, number>();

    for (let run = 0; run < COUNT; run++) {
      const base = bases[run % bases.length] as AppSources;
      const documents = clone(base);
      const change = mutation(next);
      change.apply(documents.config, documents.services);
      const sources: AppSources = {
        config: { ...base.config, value: documents.config },
        services: base.services.map((entry, index) => ({ ...entry, document: { ...entry.document, value: documents.services[index] } })).concat(
          documents.services.slice(base.services.length).map((value, index) => ({ ...(base.services[index % base.services.length] as AppSources['services'][number]), document: { file: `services/copy-${index}.js`, value } })),
        ),
      };
      const kind = change.description.split(/[: ]/)[0] ?? '';
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      const started = performance.now();
      try {
        const outcome = await exercise(sources);
        if (outcome.rendered) rendered++;
        else refused++;
        problemCount += outcome.problems.length;
        for (const problem of outcome.problems) {
          if (problem.file === '' || problem.path === '') unlocated.push(`#${run} ${change.description}: ${JSON.stringify(problem).slice(0, 300)}`);
        }
      } catch (error) {
        crashes.push(`#${run} ${change.description}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`.slice(0, 2000));
      }
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { ms, description: `#${run} ${change.description}` };
    }

    // The figures README quotes; printed so a run with another seed can be compared.
    console.log(
      [
        `config fuzz: seed ${SEED}, ${COUNT} mutations of ${bases.length} ops repos (${[...kinds].map(([kind, count]) => `${kind} ${count}`).join(', ')})`,
        `  refused with problems: ${refused} (${problemCount} problems in all); still compiled: ${rendered}`,
        `  crashes: ${crashes.length}; problems without a file or path: ${unlocated.length}`,
        `  slowest mutation: ${slowest.ms.toFixed(0)} ms (${slowest.description})`,
      ].join('\n'),
    );
    expect(crashes).toEqual([]);
    expect(unlocated).toEqual([]);
    // The mutations bite: most of them are refused, and some of each still compile.
    expect(refused).toBeGreaterThan(COUNT / 2);
    expect(rendered).toBeGreaterThan(0);
  });
});
