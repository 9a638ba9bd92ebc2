import { describe, expect, it } from 'vitest';
import { addonCount, addonTargets, selects } from '../../../src/addons/clusters.js';
import { orderAddons, parseManifest } from '../../../src/addons/order.js';
import { ConfigError } from '../../../src/errors.js';
import { configSchema, type ConfigSpec } from '../../../src/model/config.js';
import { checkApp, type AppSources } from '../../../src/resolve/index.js';

const all = orderAddons([
  ...parseManifest('apiVersion: v1\nkind: Namespace\nmetadata: { name: ingress }', 'addons/ingress/namespace.yaml'),
  ...parseManifest('apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: ingress, namespace: ingress }', 'addons/ingress/controller.yaml'),
  ...parseManifest('apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: { name: widgets.example.com }', 'addons/widgets/crd.yaml'),
  ...parseManifest('apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w, namespace: ingress }', 'addons/widgets/widget.yaml'),
  ...parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: remote, namespace: ingress }', 'https://example.com/remote.yaml'),
]);

const config = (value: Record<string, unknown>): ConfigSpec => configSchema.parse({ project: 'shop', environments: { staging: {} }, ...value });
const names = (targets: ReturnType<typeof addonTargets>) => targets.map((target) => `${target.cluster?.name ?? 'home'}:${addonCount(target.addons)}`);

describe('add-ons per cluster', () => {
  it('home gets every add-on, as before, also with no clusters at all', () => {
    expect(names(addonTargets(config({}), all))).toEqual(['home:5']);
    expect(addonTargets(config({}), all)[0]?.addons).toBe(all);
  });

  it('a cluster that hosts an environment gets every add-on by default; one that hosts none gets none (what it got before is pruned) unless its addons says so', () => {
    const targets = addonTargets(config({
      clusters: { prod: { kubeconfigSecret: 'kc-prod' }, spare: { kubeconfigSecret: 'kc-spare' }, lab: { kubeconfigSecret: 'kc-lab', key: 'value', addons: true } },
      environments: { staging: {}, production: { cluster: 'prod' } },
    }), all);
    expect(names(targets)).toEqual(['home:5', 'lab:5', 'prod:5', 'spare:0']);
    expect(targets[1]?.cluster).toEqual({ name: 'lab', secret: 'kc-lab', key: 'value' });
    expect(targets[2]?.cluster).toEqual({ name: 'prod', secret: 'kc-prod', key: 'kubeconfig' });
  });

  it('addons: false leaves a cluster alone, even one that hosts an environment', () => {
    expect(names(addonTargets(config({ clusters: { prod: { kubeconfigSecret: 'p', addons: false } }, environments: { production: { cluster: 'prod' } } }), all))).toEqual(['home:5']);
  });

  it('a selection keeps the add-ons of the named files, folders and URLs, in the same order; an empty one keeps none (so the cluster\'s are pruned)', () => {
    const [, prod] = addonTargets(config({ clusters: { prod: { kubeconfigSecret: 'p', addons: ['./addons/ingress/', 'https://example.com/remote.yaml', 'addons/widgets/crd.yaml'] } }, environments: { production: { cluster: 'prod' } } }), all);
    expect(prod?.addons.definitions.map((item) => item.object.kind)).toEqual(['Namespace', 'CustomResourceDefinition']);
    expect(prod?.addons.controllers.map((item) => `${item.object.kind}/${item.object.metadata.name}`)).toEqual(['ConfigMap/remote', 'Deployment/ingress']);
    expect(prod?.addons.resources).toEqual([]);
    const [, none] = addonTargets(config({ clusters: { prod: { kubeconfigSecret: 'p', addons: [] } } }), all);
    expect(none?.cluster?.name).toBe('prod');
    expect(addonCount(none!.addons)).toBe(0);
  });

  it('a selection that names no add-on is an error naming the file, the path and what was expected', () => {
    const bad = () => addonTargets(config({ clusters: { prod: { kubeconfigSecret: 'p', addons: ['addons/ingress', 'addons/ingres', 'addons/widgets/crd'] } } }), all);
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (error) {
      expect((error as ConfigError).problems.map((problem) => `${problem.file} ${problem.path}`)).toEqual(['.diploid.conf.js clusters.prod.addons[1]', '.diploid.conf.js clusters.prod.addons[2]']);
      expect((error as ConfigError).problems[0]?.message).toMatch(/^"addons\/ingres" names no add-on; expected a file or folder of the add-ons folder, or a URL of addons.remote: one of addons\/ingress\/namespace.yaml/);
    }
    expect(() => addonTargets(config({ clusters: { prod: { kubeconfigSecret: 'p', addons: ['addons/x'] } } }), orderAddons([]))).toThrow(/\(the ops repo has no add-ons\)/);
  });

  it('a folder selects what is inside it, not a sibling that starts with the same letters', () => {
    expect(selects('addons/ingress', 'addons/ingress/a.yaml')).toBe(true);
    expect(selects('addons/ingress/', 'addons/ingress/a.yaml')).toBe(true);
    expect(selects('addons/ingress', 'addons/ingress-nginx/a.yaml')).toBe(false);
    expect(selects('addons/ingress/a.yaml', 'addons/ingress/a.yaml')).toBe(true);
  });
});

describe('clusters.<name>.addons in the config', () => {
  const sources = (value: Record<string, unknown>): AppSources => ({
    config: { file: '.diploid.conf.js', value: { project: 'shop', environments: { production: { cluster: 'prod' } }, ...value } },
    services: [{ document: { file: 'services/api.js', value: { name: 'api', image: 'api', port: 8080 } }, origin: { kind: 'ops' as const } }],
  });

  it('takes true, false and a list of paths; today\'s config (no addons) stays valid', () => {
    for (const addons of [true, false, [], ['addons/ingress', 'https://example.com/x.yaml'], undefined]) {
      expect(checkApp(sources({ clusters: { prod: { kubeconfigSecret: 'p', ...(addons === undefined ? {} : { addons }) } } }))).toEqual([]);
    }
  });

  it('refuses anything else, naming the file, the path and what was expected', () => {
    const problems = (addons: unknown) => checkApp(sources({ clusters: { prod: { kubeconfigSecret: 'p', addons } } })).map((problem) => `${problem.file} ${problem.path}: ${problem.message}`);
    expect(problems('yes')).toEqual([expect.stringMatching(/^\.diploid\.conf\.js clusters\.prod\.addons: expected true or false or a list, got "yes"/)]);
    expect(problems(['addons/../../etc'])).toEqual([expect.stringMatching(/^\.diploid\.conf\.js clusters\.prod\.addons\[0\]: .*a path inside the ops repo \(no "\.\."\)/)]);
    expect(problems([''])).toEqual([expect.stringMatching(/^\.diploid\.conf\.js clusters\.prod\.addons\[0\]: /)]);
  });
});
