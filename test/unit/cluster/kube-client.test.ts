import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeConfigFrom } from '../../../src/cluster/kube-client.js';

function kubeconfig(server: string, skipVerify: boolean): string {
  const file = join(mkdtempSync(join(tmpdir(), 'diploid-kubeconfig-')), 'config');
  writeFileSync(file, `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${server}
    insecure-skip-tls-verify: ${skipVerify}
users:
- name: u
  user:
    token: secret-token
contexts:
- name: x
  context: { cluster: c, user: u }
current-context: x
`);
  return file;
}

async function agentOf(config: k8s.KubeConfig): Promise<unknown> {
  const context = new k8s.RequestContext(`${config.getCurrentCluster()?.server}/api/v1/namespaces`, k8s.HttpMethod.GET);
  await config.applySecurityAuthentication(context);
  expect(context.getHeaders().Authorization).toBe('Bearer secret-token');
  return context.getAgent();
}

describe('kubeConfigFrom', () => {
  it('gives every request the same keep-alive agent, so API calls share connections', async () => {
    const config = kubeConfigFrom(kubeconfig('https://127.0.0.1:6443', true));
    const first = await agentOf(config);
    const second = await agentOf(config);
    expect(first).toBeInstanceOf(Agent);
    expect(second).toBe(first);
    expect((first as Agent & { keepAlive: boolean }).keepAlive).toBe(true);
    expect((first as Agent).options.rejectUnauthorized).toBe(false);
  });

  it('keeps TLS settings apart: another kubeconfig gets its own agent', async () => {
    const lax = await agentOf(kubeConfigFrom(kubeconfig('https://127.0.0.1:6443', true)));
    const strict = await agentOf(kubeConfigFrom(kubeconfig('https://127.0.0.1:6443', false)));
    expect(strict).not.toBe(lax);
    expect((strict as Agent).options.rejectUnauthorized).not.toBe(false);
  });

  it('tells CA files apart by their content, and shares the agent of one CA across requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diploid-ca-'));
    const ca = join(dir, 'ca.crt');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nONE\n-----END CERTIFICATE-----\n');
    const file = kubeconfig('https://127.0.0.1:6443', false);
    writeFileSync(file, readFileSync(file, 'utf8').replace('insecure-skip-tls-verify: false', `certificate-authority: ${ca}`));
    const config = kubeConfigFrom(file);
    const first = await agentOf(config);
    expect(await agentOf(config)).toBe(first);
    expect(String((first as Agent).options.ca)).toContain('ONE');
    // client-node reads the file for every request: a replaced CA gets an agent of its own.
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nTWO\n-----END CERTIFICATE-----\n');
    const second = await agentOf(config);
    expect(second).not.toBe(first);
    expect(String((second as Agent).options.ca)).toContain('TWO');
  });
});
