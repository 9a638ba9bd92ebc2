import { addonCount, addonTargets } from '../../addons/clusters.js';
import { loadAddons } from '../../addons/load.js';
import { DirectoryTree } from '../../sources/trees.js';
import { defaultCacheDir } from '../options.js';
import { formatRebuildPlan, rebuildPlan } from '../../rebuild/needs.js';
import { secretsDir } from '../../secrets/layout.js';
import { loadConfigForCommand } from '../load.js';
import type { Output } from '../output.js';
import { listSecretFiles } from '../secret-store.js';

/** `diploid plan --from-scratch`: what a rebuild of the cluster needs beyond the ops repo. */
export async function printRebuildPlan(opsDir: string, format: 'text' | 'json', output: Output): Promise<void> {
  const config = await loadConfigForCommand(opsDir, output);
  const addons = await loadAddons(new DirectoryTree(opsDir, ''), config, defaultCacheDir());
  const dir = secretsDir(config);
  const plan = rebuildPlan({
    config,
    secretFiles: listSecretFiles(opsDir, config).map((file) => `${dir}/${file}`),
    addonObjects: addonCount(addons),
    addonClusters: addonTargets(config, addons).flatMap((target) => (target.cluster === undefined || addonCount(target.addons) === 0 ? [] : [{ cluster: target.cluster.name, objects: addonCount(target.addons) }])),
  });
  output.out(format === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : formatRebuildPlan(plan));
}
