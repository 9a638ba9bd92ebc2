import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/backends/kubernetes/objects.js';
import { SecretFileError } from '../../../src/secrets/errors.js';
import { environmentSecretFiles } from '../../../src/secrets/layout.js';
import { annotateSecretVersions, referencedSecrets, secretVersions, SECRET_VERSIONS_ANNOTATION } from '../../../src/secrets/versions.js';

describe('which secret files an environment gets', () => {
  it('common files for every environment, its own folder winning, other folders and files ignored', () => {
    const files = ['db.yaml', 'api.yml', 'production/db.yaml', 'staging/db.yaml', 'README.md', 'production/deep/x.yaml'];
    expect([...environmentSecretFiles(files, 'production')]).toEqual([['api', 'secrets/api.yml'], ['db', 'secrets/production/db.yaml']]);
    expect([...environmentSecretFiles(files, 'preview-x')]).toEqual([['api', 'secrets/api.yml'], ['db', 'secrets/db.yaml']]);
    expect(() => environmentSecretFiles(['Bad_Name.yaml'], 'production')).toThrow(SecretFileError);
    expect(() => environmentSecretFiles(['Bad_Name.yaml'], 'production')).toThrow('secrets/Bad_Name.yaml: "Bad_Name" is not a valid Secret name (lower-case letters, digits and "-"); rename the file');
  });
});

describe('secret versions from git object ids', () => {
  const objects = new Map([
    ['secrets/db.yaml', 'aaa'],
    ['secrets/production/db.yaml', 'bbb'],
    ['secrets/api.yaml', 'ccc'],
  ]);

  it('finds the Secrets a resolved service refers to, in env values and file parts', () => {
    expect([...referencedSecrets({ env: { A: { kind: 'secret', secret: 'db', key: 'password' }, B: { kind: 'literal', value: 'x' } }, files: [{ parts: [{ text: 'a' }, { secret: 'api', key: 'token' }] }] })].sort()).toEqual(['api', 'db']);
  });

  it('changes when a file used changes, not when another does; the environment\'s own file counts', () => {
    const production = secretVersions(objects, 'secrets', 'production', ['db']);
    const staging = secretVersions(objects, 'secrets', 'staging', ['db']);
    expect(production).toMatch(/^[0-9a-f]{16}$/);
    expect(production).not.toBe(staging);
    expect(secretVersions(new Map([...objects, ['secrets/api.yaml', 'ddd']]), 'secrets', 'production', ['db'])).toBe(production);
    expect(secretVersions(new Map([...objects, ['secrets/production/db.yaml', 'eee']]), 'secrets', 'production', ['db'])).not.toBe(production);
    expect(secretVersions(objects, 'secrets', 'production', ['made-by-hand'])).toBe('');
  });

  it('annotates the pod templates of workloads that use a Secret kept in git, and only those', () => {
    const deployment = (name: string, env: unknown[]): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name, env }] } } } });
    const [uses, other, service] = annotateSecretVersions(
      [deployment('api', [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }]), deployment('web', [{ name: 'X', value: '1' }]), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' } }],
      objects,
      'secrets',
      'production',
    );
    const annotations = (object: KubeObject | undefined) => (object?.spec as { template: { metadata: { annotations?: Record<string, string>; labels: Record<string, string> } } }).template.metadata;
    expect(annotations(uses)).toEqual({ labels: { a: 'b' }, annotations: { [SECRET_VERSIONS_ANNOTATION]: secretVersions(objects, 'secrets', 'production', ['db']) } });
    expect(annotations(other).annotations).toBeUndefined();
    expect(service).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' } });
  });
});
