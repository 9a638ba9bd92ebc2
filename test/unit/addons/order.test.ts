import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchPinned, loadAddons } from '../../../src/addons/load.js';
import { orderAddons, parseManifest } from '../../../src/addons/order.js';
import { ConfigError } from '../../../src/errors.js';
import { DirectoryTree } from '../../../src/sources/trees.js';
import { writeOpsRepo } from '../../support/ops-repo.js';

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.example.com }
spec:
  group: example.com
  names: { kind: Widget, plural: widgets }
  scope: Namespaced
  versions: [{ name: v1, served: true, storage: true, schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } } }]
`;

describe('add-on order', () => {
  it('puts namespaces and CRDs first, built-in kinds next (webhooks last), custom resources at the end, whatever the file order', () => {
    const objects = parseManifest(
      [
        'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w, namespace: widgets }',
        'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: { name: widgets }',
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: widget-controller, namespace: widgets }',
        CRD,
        'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: widget-controller, namespace: widgets }',
        'apiVersion: v1\nkind: Namespace\nmetadata: { name: widgets }',
        '',
      ].join('\n---\n'),
      'addons/widgets.yaml',
    );
    const ordered = orderAddons(objects);
    const names = (items: typeof ordered.definitions) => items.map((item) => `${item.object.kind}/${item.object.metadata.name}`);
    expect(names(ordered.definitions)).toEqual(['Namespace/widgets', 'CustomResourceDefinition/widgets.example.com']);
    expect(names(ordered.controllers)).toEqual(['ServiceAccount/widget-controller', 'Deployment/widget-controller', 'ValidatingWebhookConfiguration/widgets']);
    expect(names(ordered.resources)).toEqual(['Widget/w']);
  });

  it('flattens a List and reports each bad document with its file, place and line', () => {
    expect(parseManifest('apiVersion: v1\nkind: List\nitems:\n- { apiVersion: v1, kind: ConfigMap, metadata: { name: a } }\n', 'x.yaml').map((item) => item.object.metadata.name)).toEqual(['a']);
    const error = (() => {
      try {
        parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ok }\n---\nkind: Secret\nmetadata: {}\n---\n- a list\n', 'addons/bad.yaml');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { file: 'addons/bad.yaml', path: 'document 2', message: 'missing apiVersion, metadata.name', line: 5 },
      { file: 'addons/bad.yaml', path: 'document 3', message: 'expected a Kubernetes object (a map with apiVersion, kind and metadata.name)', line: 8 },
    ]);
  });

  it('refuses one object declared twice, naming both sources', () => {
    const a = parseManifest(CRD, 'addons/a.yaml');
    const b = parseManifest(CRD, 'https://example.com/crd.yaml');
    expect(() => orderAddons([...a, ...b])).toThrow('https://example.com/crd.yaml CustomResourceDefinition widgets.example.com: is also declared in addons/a.yaml');
  });
});

describe('remote add-ons pinned by sha256', () => {
  it('fetches the content once, checks its hash, reuses the cache, and refuses changed content', async () => {
    let body = CRD;
    let hits = 0;
    const server = createServer((_, response) => {
      hits++;
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/crd.yaml`;
    const cache = mkdtempSync(join(tmpdir(), 'diploid-addons-'));
    try {
      const sha256 = createHash('sha256').update(CRD).digest('hex');
      const ops = writeOpsRepo({ 'addons/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: { name: widgets }\n' });
      const loaded = await loadAddons(new DirectoryTree(ops, ''), { addons: { remote: [{ url, sha256 }] } }, cache);
      expect(loaded.definitions.map((item) => item.source)).toEqual(['addons/ns.yaml', url]);
      expect(await fetchPinned(url, sha256, join(cache, 'addons'), 'addons.remote[0]')).toBe(CRD);
      expect(hits).toBe(1);

      body = `${CRD}# changed\n`;
      const other = createHash('sha256').update('something else').digest('hex');
      await expect(loadAddons(new DirectoryTree(ops, ''), { addons: { remote: [{ url, sha256: other }] } }, cache)).rejects.toThrow(
        `.diploid.conf.js addons.remote[0].sha256: ${url} has sha256 ${createHash('sha256').update(body).digest('hex')}, not the pinned ${other}`,
      );
    } finally {
      server.close();
    }
  });
});
