/**
 * Which clusters get which add-ons. Pure: the config and the ops repo's add-ons in, one target per
 * cluster out.
 *
 * As Argo CD's ApplicationSet cluster generator makes one Application of the add-ons per cluster,
 * and Flux a Kustomization per cluster with its `kubeConfig`, each cluster gets its own apply, its
 * own waits and its own inventory: the controller's own cluster (*home*) always gets every add-on,
 * as before; another cluster of `clusters` gets them when an environment lives there (or when its
 * `addons` says so), all of them unless its `addons` lists some; none when it hosts no
 * environment (what it got before is pruned); `addons: false` leaves it alone (no target).
 */
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { ConfigSpec } from '../model/config.js';
import type { AddonObject, OrderedAddons } from './order.js';

/** A cluster of `clusters`, as the controller reaches it (the same shape as a resolved environment's). */
export interface AddonCluster {
  readonly name: string;
  readonly secret: string;
  readonly key: string;
}

/** One cluster's add-ons: `cluster` undefined is home. */
export interface AddonTarget {
  readonly cluster?: AddonCluster;
  readonly addons: OrderedAddons;
}

type AddonsConfig = Pick<ConfigSpec, 'clusters' | 'environments'>;

const NO_ADDONS: OrderedAddons = { definitions: [], controllers: [], resources: [] };

/**
 * Home first, then the other clusters by name: every cluster of `clusters` but those with
 * `addons: false`, some with no add-on (a cluster not contacted unless it has an inventory). Throws a ConfigError when a selection names no add-on. */
export function addonTargets(config: AddonsConfig, all: OrderedAddons): AddonTarget[] {
  const targets: AddonTarget[] = [{ addons: all }];
  const problems: ConfigProblem[] = [];
  const hosting = new Set(Object.values(config.environments).flatMap((environment) => (environment.cluster === undefined ? [] : [environment.cluster])));
  for (const [name, entry] of Object.entries(config.clusters ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (entry.addons === false) continue;
    const cluster = { name, secret: entry.kubeconfigSecret, key: entry.key ?? 'kubeconfig' };
    const choice = entry.addons ?? hosting.has(name);
    if (choice === false) {
      // Hosts no environment (any more): none, so those applied while it did are pruned.
      targets.push({ cluster, addons: NO_ADDONS });
      continue;
    }
    if (choice === true) {
      targets.push({ cluster, addons: all });
      continue;
    }
    const sources = [...all.definitions, ...all.controllers, ...all.resources].map((item) => item.source);
    choice.forEach((selection, index) => {
      if (!sources.some((source) => selects(selection, source))) {
        const known = [...new Set(sources)];
        problems.push({
          file: '.diploid.conf.js',
          path: `clusters.${name}.addons[${index}]`,
          message: `"${selection}" names no add-on; expected a file or folder of the add-ons folder, or a URL of addons.remote${known.length === 0 ? ' (the ops repo has no add-ons)' : `: one of ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}`}`,
        });
      }
    });
    const keep = (item: AddonObject) => choice.some((selection) => selects(selection, item.source));
    targets.push({ cluster, addons: { definitions: all.definitions.filter(keep), controllers: all.controllers.filter(keep), resources: all.resources.filter(keep) } });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return targets;
}

/** A selection names an add-on's source itself (a file, a URL) or a folder holding it. */
export function selects(selection: string, source: string): boolean {
  const wanted = selection.replace(/^\.\//, '').replace(/\/+$/, '');
  return source === wanted || source.startsWith(`${wanted}/`);
}

/** How many add-on objects a target holds. */
export function addonCount(addons: OrderedAddons): number {
  return addons.definitions.length + addons.controllers.length + addons.resources.length;
}
