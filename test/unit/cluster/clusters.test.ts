import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterSecretError, kubeConfigOf, refusedFields } from '../../../src/cluster/clusters.js';
import { clustersRbac } from '../../../src/cluster/clusters-rbac.js';
import { classifyError } from '../../../src/controller/errors.js';
import { ConfigError } from '../../../src/errors.js';
import { checkApp, resolveApp, type AppSources } from '../../../src/resolve/index.js';

const TOKEN = 'token-5d1e0b77';

function kubeconfig(user: string, cluster = ''): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: ${Buffer.from('not really a CA').toString('base64')}
${cluster}users:
- name: u
  user:
    token: ${TOKEN}
${user}contexts:
- name: x
  context: { cluster: c, user: u }
current-context: x
`;
}

function refusal(text: string): ClusterSecretError {
  try {
    kubeConfigOf(text, 'Secret sys/prod key "kubeconfig"', 'prod');
  } catch (error) {
    expect(error).toBeInstanceOf(ClusterSecretError);
    return error as ClusterSecretError;
  }
  throw new Error('accepted');
}

describe('a kubeconfig from a cluster Secret', () => {
  it('gives a client of its current context when its credentials are inline', () => {
    const config = kubeConfigOf(kubeconfig(''), 'Secret sys/prod', 'prod');
    expect(config.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(config.getCurrentUser()?.token).toBe(TOKEN);
  });

  it.each([
    ['exec', '    exec: { apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, id] }\n', 'users[0].user.exec'],
    ['auth-provider', '    auth-provider: { name: oidc, config: { idp-issuer-url: https://x } }\n', 'users[0].user.auth-provider'],
    ['client-certificate', '    client-certificate: /etc/kubernetes/pki/admin.crt\n', 'users[0].user.client-certificate'],
    ['client-key', '    client-key: /etc/kubernetes/pki/admin.key\n', 'users[0].user.client-key'],
  ])('refuses a user with %s, naming where, never its value', (_field, user, path) => {
    const error = refusal(kubeconfig(user));
    expect(error.reason).toBe('ClusterSecretInvalid');
    expect(error.cluster).toBe('prod');
    expect(error.message).toContain(path);
    expect(error.message).toContain('Secret sys/prod key "kubeconfig"');
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toMatch(/\/bin\/sh|pki|oidc/);
  });

  it('refuses a token-file before anything reads it (it could be the controller\'s own service account token)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'diploid-token-')), 'token');
    writeFileSync(file, 'the-controllers-own-token');
    const error = refusal(kubeconfig(`    token-file: ${file}\n`));
    expect(error.message).toContain('users[0].user.token-file');
    expect(error.message).not.toContain('the-controllers-own-token');
  });

  it('refuses a certificate-authority file path', () => {
    expect(refusal(kubeconfig('', '    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n')).message).toContain('clusters[0].cluster.certificate-authority');
  });

  it('does not pass on what a YAML parser quotes of a document that does not parse', () => {
    const error = refusal(`clusters: [ { server: "${TOKEN}" ]\n  : x\n`);
    expect(error.message).toBe('Secret sys/prod key "kubeconfig": is not a kubeconfig: it does not parse as YAML');
    expect(error.cause).toBeUndefined();
  });

  it('refuses a kubeconfig without a usable current context', () => {
    expect(refusal(kubeconfig('').replace('current-context: x', 'current-context: nope')).message).toContain('names no current-context');
    expect(refusal('- just\n- a list\n').message).toContain('expected a mapping');
  });

  it('lists refused fields by index only', () => {
    expect(refusedFields({ users: [{ name: 'a', user: { token: 't' } }, { name: 'b', user: { exec: {}, 'token-file': '/x' } }], clusters: [{ cluster: { 'certificate-authority': '/ca' } }] })).toEqual([
      'users[1].user.exec',
      'users[1].user.token-file',
      'clusters[0].cluster.certificate-authority',
    ]);
  });

  it('is retried, with its own reason for the status: it is fixed in the cluster, not in git', () => {
    expect(classifyError(new ClusterSecretError('ClusterSecretMissing', 'prod', 'gone'))).toEqual({ retryable: true, reason: 'ClusterSecretMissing', message: 'gone' });
  });
});

function sources(config: Record<string, unknown>): AppSources {
  return {
    config: { file: '.diploid.conf.js', value: { project: 'shop', ...config } },
    services: [{ document: { file: 'services/api.js', value: { name: 'api', image: 'api', port: 8080 } }, origin: { kind: 'ops' as const } }],
  };
}

describe('clusters in the ops config', () => {
  it('resolves an environment\'s cluster to its Secret, and atomic', () => {
    const app = resolveApp(sources({ clusters: { prod: { kubeconfigSecret: 'diploid-cluster-prod' }, edge: { kubeconfigSecret: 'edge', key: 'value.yaml' } }, environments: { production: { cluster: 'prod', atomic: true }, staging: { cluster: 'edge' }, dev: {} } }), { environment: 'production' });
    expect(app.environment.cluster).toEqual({ name: 'prod', secret: 'diploid-cluster-prod', key: 'kubeconfig' });
    expect(app.environment.atomic).toBe(true);
    const edge = resolveApp(sources({ clusters: { edge: { kubeconfigSecret: 'edge', key: 'value.yaml' } }, environments: { staging: { cluster: 'edge' } } }), { environment: 'staging' });
    expect(edge.environment.cluster).toEqual({ name: 'edge', secret: 'edge', key: 'value.yaml' });
    const dev = resolveApp(sources({ environments: { dev: {} } }), { environment: 'dev' });
    expect(dev.environment.cluster).toBeUndefined();
    expect(dev.environment.atomic).toBeUndefined();
  });

  it('names the file, the path and what was expected for a cluster that clusters lacks', () => {
    expect(checkApp(sources({ clusters: { prod: { kubeconfigSecret: 'p' } }, environments: { production: { cluster: 'prd' } } }))).toEqual([
      { file: '.diploid.conf.js', path: 'environments.production.cluster', message: 'names no entry of clusters; expected one of prod (did you mean "prod"?)' },
    ]);
    expect(() => resolveApp(sources({ environments: { production: { cluster: 'prod' } } }), { environment: 'production' })).toThrow(ConfigError);
    expect(checkApp(sources({ environments: { production: { cluster: 'prod' } } }))[0]?.message).toMatch(/expected a cluster defined under clusters/);
  });

  it('keeps the name home for the controller\'s own cluster', () => {
    expect(checkApp(sources({ clusters: { home: { kubeconfigSecret: 'h' } }, environments: { production: { cluster: 'home' } } }))).toContainEqual(
      expect.objectContaining({ file: '.diploid.conf.js', path: 'clusters.home', message: expect.stringMatching(/a name other than "home", which means the controller's own cluster/) }),
    );
  });

  it('checks the Secret\'s name and key, and atomic\'s type', () => {
    const problems = checkApp(sources({ clusters: { prod: { kubeconfigSecret: 'Not_A_Name', key: 'a/b' } }, environments: { production: { atomic: 'yes' } } }));
    expect(problems.map((problem) => `${problem.file} ${problem.path}`).sort()).toEqual([
      '.diploid.conf.js clusters.prod.key',
      '.diploid.conf.js clusters.prod.kubeconfigSecret',
      '.diploid.conf.js environments.production.atomic',
    ]);
  });

  it('lets the controller read exactly the clusters\' Secrets, by name', () => {
    const objects = clustersRbac({ project: 'shop', clusters: { b: { kubeconfigSecret: 'kc-b' }, a: { kubeconfigSecret: 'kc-a' }, c: { kubeconfigSecret: 'kc-a' } } }, { namespace: 'diploid-system', serviceAccount: 'diploid-controller' });
    expect(objects.map((object) => object.kind)).toEqual(['Role', 'RoleBinding']);
    expect((objects[0] as unknown as { rules: unknown }).rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['kc-a', 'kc-b'], verbs: ['get'] }]);
    expect(clustersRbac({ project: 'shop' }, { namespace: 'diploid-system', serviceAccount: 'diploid-controller' })).toEqual([]);
  });
});
