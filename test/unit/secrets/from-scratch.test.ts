import { describe, expect, it } from 'vitest';
import { runCli, writeOpsRepo } from '../../support/ops-repo.js';

const RECIPIENT = 'age1kjk55k88sjqflpy2ccund4y2tmte7vkyte2aygcggrm520jr7pssvzg7gy';

describe('diploid plan --from-scratch', () => {
  it('lists the private key and the git tokens as what git lacks, the webhook secret as replaceable, and what git brings back', async () => {
    const ops = writeOpsRepo({
      '.diploid.conf.js': `export default {
  project: 'shop',
  git: { hosts: { gitlab: { provider: 'gitlab', token: { env: 'GITLAB_TOKEN' } }, github: { provider: 'github', token: { file: '/run/gh' } } } },
  environments: { production: {}, staging: {} },
  controller: { namespace: 'ops-system' },
  secrets: { recipients: { cluster: '${RECIPIENT}' } },
};
`,
      'secrets/db.yaml': 'not read here\n',
      'secrets/production/api.yaml': 'not read here\n',
      'addons/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: b }\n',
    });
    const run = await runCli(['plan', '--from-scratch', ops]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`A cluster rebuilt from the ops repo needs, from outside git:
  1. the cluster's age private key (public key ${RECIPIENT})
     -> Secret ops-system/diploid-age-key, key age.key: decrypts the 2 secret files; only your safe has it
  2. git token of host github (github)
     -> Secret ops-system/diploid, file /run/gh: reads the repos, sets commit statuses and registers webhooks
  3. git token of host gitlab (gitlab)
     -> Secret ops-system/diploid, key GITLAB_TOKEN: reads the repos, sets commit statuses and registers webhooks

Replaceable (a new one works):
  - the webhook master secret
     -> Secret ops-system/diploid, key DIPLOID_WEBHOOK_SECRET: \`diploid webhooks secret\` makes a new one; \`diploid init\` registers the webhooks again with it

From git, by \`diploid init\` and the controller:
  - add-ons: 2 objects
  - secrets: secrets/db.yaml, secrets/production/api.yaml (encrypted)
  - environments at their branch heads: production, staging; previews of branches still alive
`);
    const json = JSON.parse((await runCli(['plan', '--from-scratch', ops, '-o', 'json'])).stdout) as { outsideGit: Array<{ kind: string }> };
    expect(json.outsideGit.map((need) => need.kind)).toEqual(['key', 'token', 'token']);
  });

  it('names each other cluster\'s kubeconfig Secret as what git lacks, and the add-ons each cluster gets', async () => {
    const ops = writeOpsRepo({
      '.diploid.conf.js': `export default {
  project: 'shop',
  clusters: { prod: { kubeconfigSecret: 'kc-prod' }, edge: { kubeconfigSecret: 'kc-edge', key: 'value', addons: ['addons/ns-a.yaml'] }, lab: { kubeconfigSecret: 'kc-lab', addons: false } },
  environments: { staging: {}, production: { cluster: 'prod' }, canary: { cluster: 'edge' } },
};
`,
      'addons/ns-a.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n',
      'addons/ns-b.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: { name: b }\n',
    });
    const run = await runCli(['plan', '--from-scratch', ops]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`  1. kubeconfig of cluster edge
     -> Secret diploid-system/kc-edge, key value: reaches cluster edge (environments canary; 1 add-on object), with the rights it grants there
  2. kubeconfig of cluster lab
     -> Secret diploid-system/kc-lab, key kubeconfig: reaches cluster lab, with the rights it grants there
  3. kubeconfig of cluster prod
     -> Secret diploid-system/kc-prod, key kubeconfig: reaches cluster prod (environments production; 2 add-on objects), with the rights it grants there
`);
    expect(run.stdout).toContain("  - add-ons: 2 objects in the controller's cluster; cluster edge: 1 object; cluster prod: 2 objects\n");
    const json = JSON.parse((await runCli(['plan', '--from-scratch', ops, '-o', 'json'])).stdout) as { fromGit: { addonClusters: unknown } };
    expect(json.fromGit.addonClusters).toEqual([{ cluster: 'edge', objects: 1 }, { cluster: 'prod', objects: 2 }]);
  });
});
