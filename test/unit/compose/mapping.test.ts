import { describe, expect, it } from 'vitest';
import { composeBackend } from '../../../src/backends/compose/backend.js';
import { compileCompose } from '../../../src/backends/compose/index.js';
import { app, http8080, service } from './fixtures.js';

describe('compose: images and builds', () => {
  it('builds from the repo folder given by a variable, with the inline Dockerfile of a preset', () => {
    const { file, inputs } = compileCompose(
      app([
        service('web', { image: { kind: 'build', ref: 'reg/web:abc', repo: 'front-end', context: 'app', dockerfile: 'Dockerfile', inlineDockerfile: 'FROM nginx\n', args: { B: '2', A: '1' }, target: 'prod', watch: ['app'] } }),
        service('api', { image: { kind: 'build', ref: 'reg/api:abc', repo: 'backend', context: '.', dockerfile: 'docker/Dockerfile', args: {}, watch: ['.'] } }),
      ]),
    );
    expect(file.services.web?.image).toBe('reg/web:abc');
    expect(file.services.web?.build).toEqual({ context: '${FRONT_END_DIR:-../front-end}/app', dockerfile_inline: 'FROM nginx\n', args: { A: '1', B: '2' }, target: 'prod' });
    expect(file.services.api?.build).toEqual({ context: '${BACKEND_DIR:-../backend}', dockerfile: 'docker/Dockerfile' });
    expect([...inputs.repos]).toEqual([
      ['BACKEND_DIR', '../backend'],
      ['FRONT_END_DIR', '../front-end'],
    ]);
  });

  it('maps command to entrypoint and args to command, as Kubernetes means them', () => {
    const { file } = compileCompose(app([service('job', { command: ['node'], args: ['run.js', '--cost=$5'] })]));
    expect(file.services.job?.entrypoint).toEqual(['node']);
    expect(file.services.job?.command).toEqual(['run.js', '--cost=$$5']);
  });
});

describe('compose: environment and secrets', () => {
  it('escapes literal dollars and takes secrets from the environment of docker compose, never their values', () => {
    const { file, inputs } = compileCompose(
      app([
        service('api', {
          env: [
            { name: 'PRICE', value: { kind: 'literal', value: 'costs $5 or ${X}' } },
            { name: 'DB_PASSWORD', value: { kind: 'secret', secret: 'db', key: 'password' } },
          ],
        }),
      ]),
    );
    expect(file.services.api?.environment).toEqual({ PRICE: 'costs $$5 or $${X}', DB_PASSWORD: '${DB_PASSWORD:?set DB_PASSWORD to key password of secret db}' });
    expect([...inputs.secretVariables]).toEqual([['DB_PASSWORD', 'db/password']]);
  });

  it('gives secrets whose names look alike variables of their own', () => {
    const { file } = compileCompose(
      app([
        service('api', {
          env: [
            { name: 'A', value: { kind: 'secret', secret: 'a-b', key: 'c' } },
            { name: 'B', value: { kind: 'secret', secret: 'a', key: 'b-c' } },
            { name: 'C', value: { kind: 'secret', secret: 'a-b', key: 'c' } },
          ],
        }),
      ]),
    );
    expect(Object.values(file.services.api?.environment ?? {}).map((value) => value.split(':?')[0])).toEqual(['${A_B_C', '${A_B_C_2', '${A_B_C']);
  });

  it('puts plain files in configs and renders files with secrets in a one-shot step the service waits for', () => {
    const { file, inputs } = compileCompose(
      app([
        service('billing', {
          security: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 2000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, addCapabilities: [] },
          files: [
            { path: '/etc/app/plain.conf', key: 'plain.conf', parts: [{ text: 'a=$HOME\n' }], mode: 0o440, hasSecrets: false },
            { path: '/etc/app/db.ini', key: 'db.ini', parts: [{ text: 'password=' }, { secret: 'db', key: 'password' }, { text: '\n' }], hasSecrets: true },
          ],
        }),
      ]),
    );
    expect(file.configs).toEqual({
      'billing-plain.conf': { content: 'a=$$HOME\n' },
      'billing-db.ini-template': { content: 'password=@@DIPLOID_SECRET_1@@\n' },
    });
    const billing = file.services.billing;
    expect(billing?.configs).toEqual([{ source: 'billing-plain.conf', target: '/etc/app/plain.conf', mode: 0o440 }]);
    expect(billing?.volumes).toContainEqual({ type: 'volume', source: 'billing-files', target: '/etc/app/db.ini', read_only: true, volume: { subpath: 'db.ini' } });
    expect(billing?.depends_on).toEqual({ 'billing-files': { condition: 'service_completed_successfully' } });
    const step = file.services['billing-files'];
    expect(step?.secrets).toEqual([{ source: 'db.password', target: '/run/secrets/db.password' }]);
    expect(step?.volumes).toEqual([{ type: 'volume', source: 'billing-files', target: '/rendered' }]);
    expect(step?.restart).toBe('no');
    expect(step?.command?.[2]).toContain('chown 1000:2000 /rendered/db.ini');
    expect(step?.command?.[2]).toContain('DIPLOID_SECRET_1="$$(cat /run/secrets/db.password)"');
    expect(file.secrets).toEqual({ 'db.password': { file: '${DIPLOID_SECRETS_DIR:-./secrets}/db/password' } });
    expect([...inputs.secretFiles]).toEqual([['db.password', 'db/password']]);
    expect(file.volumes).toEqual({ 'billing-files': {} });
  });
});

describe('compose: volumes', () => {
  it('maps scratch to tmpfs with its size limit and persistent volumes to named volumes, warning about size', () => {
    const { file, warnings } = compileCompose(
      app([
        service('db', {
          volumes: [
            { kind: 'scratch', name: 'cache', path: '/cache', memory: false, sizeLimit: '64Mi' },
            { kind: 'persistent', name: 'data', path: '/data', size: '5Gi', accessMode: 'ReadOnlyMany' },
          ],
        }),
      ]),
    );
    expect(file.services.db?.volumes).toEqual([
      { type: 'tmpfs', target: '/cache', tmpfs: { size: 64 * 2 ** 20 } },
      { type: 'volume', source: 'db-data', target: '/data', read_only: true },
    ]);
    expect(file.volumes).toEqual({ 'db-data': {} });
    expect(warnings).toEqual(['service "db": volumes["/data"]: a named volume has no size, 5Gi is not reserved']);
  });
});

describe('compose: replicas, placement and resources', () => {
  it('runs one per host as global mode, and scales to the minimum of an autoscaled range with a warning', () => {
    const { file, warnings } = compileCompose(
      app([
        service('agent', { replicas: { kind: 'per-host' }, placement: 'one-per-host' }),
        service('api', { replicas: { kind: 'auto', min: 2, max: 5, cpu: 80 }, placement: 'spread' }),
      ]),
    );
    expect(file.services.agent?.deploy).toEqual({ mode: 'global' });
    expect(file.services.api?.deploy).toEqual({ replicas: 2 });
    expect(warnings).toEqual([
      'service "api": replicas: compose does not autoscale (2..5 at cpu 80%); runs 2',
      'service "api": placement: spread across hosts and zones does not apply: compose runs every replica on one docker host',
    ]);
  });

  it('turns requests into reservations and limits into limits, in docker units', () => {
    const { file } = compileCompose(app([service('api', { resources: { cpu: { request: '250m', limit: '1.5' }, memory: { request: '500M', limit: '1Gi' } } })]));
    expect(file.services.api?.deploy?.resources).toEqual({ limits: { cpus: '1.5', memory: '1g' }, reservations: { cpus: '0.25', memory: '500000000' } });
  });
});

describe('compose: security', () => {
  it('drops every capability, adds the named ones, forbids new privileges and runs as the given user', () => {
    const { file, warnings } = compileCompose(
      app([service('agent', { security: { runAsNonRoot: false, runAsUser: 0, readOnlyRootFilesystem: false, allowPrivilegeEscalation: true, addCapabilities: ['NET_ADMIN'] } })]),
    );
    const agent = file.services.agent;
    expect({ user: agent?.user, read_only: agent?.read_only, cap_drop: agent?.cap_drop, cap_add: agent?.cap_add, security_opt: agent?.security_opt }).toEqual({
      user: '0',
      read_only: undefined,
      cap_drop: ['ALL'],
      cap_add: ['NET_ADMIN'],
      security_opt: undefined,
    });
    expect(warnings).toEqual([]);
  });

  it('warns that non-root cannot be enforced without a user id, and that fsGroup has no equivalent', () => {
    const { file, warnings } = compileCompose(
      app([service('api', { security: { runAsNonRoot: true, fsGroup: 3000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, addCapabilities: [] } })]),
    );
    expect(file.services.api).toMatchObject({ read_only: true, cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'] });
    expect(file.services.api?.user).toBeUndefined();
    expect(warnings).toEqual([
      `service "api": security: running as non-root is not enforced by docker; the image's USER applies (set security.runAsUser to pin a user)`,
      'service "api": security.fsGroup: docker has no fsGroup; volumes are not handed to group 3000, they keep the owner the image gives them',
    ]);
  });
});

describe('compose: what does not map', () => {
  it('names each Kubernetes-only setting once, with its service', () => {
    const { warnings } = compileCompose(
      app([service('api', { serviceAccount: { kind: 'own' }, disruption: { minAvailable: 1 }, ports: [{ ...http8080, servicePort: 80 }] })], {
        pullSecret: 'registry',
        reused: [{ service: 'db', namespace: 'demo-staging' }],
      }),
    );
    expect(warnings).toEqual([
      'registry.pullSecret: compose pulls with the credentials of `docker login`; "registry" is not used: log in to the registry on the docker host',
      'service "db": reused: it runs in namespace "demo-staging", which compose cannot reach: the service is missing from this file',
      'service "api": serviceAccount: compose has no service accounts; the container gets no API identity',
      'service "api": disruption: compose has no disruption budgets; updates and restarts do not wait for other replicas',
    ]);
  });

  it('publishes an exposed port on the host', () => {
    const { file } = compileCompose(app([service('api', { expose: { type: 'NodePort', port: http8080, nodePort: 30080 } }), service('dns', { ports: [{ name: 'dns', port: 53, servicePort: 53, protocol: 'udp' }], expose: { type: 'LoadBalancer', port: { name: 'dns', port: 53, servicePort: 53, protocol: 'udp' } } })]));
    expect(file.services.api?.ports).toEqual(['30080:8080']);
    expect(file.services.dns?.ports).toEqual(['53:53/udp']);
    expect(file.services.dns?.expose).toEqual(['53/udp']);
  });

  it('refuses to add a helper service over a service of the same name', () => {
    expect(() => compileCompose(app([service('diploid-proxy'), service('web', { routes: [{ host: 'demo.test', path: '/', port: http8080, tls: false }] })]))).toThrow(/adds a service "diploid-proxy"/);
  });
});

describe('compose: output', () => {
  it('is the same bytes for the same app, and lists what the user provides at the top', () => {
    const input = app([
      service('api', { env: [{ name: 'TOKEN', value: { kind: 'secret', secret: 'api', key: 'token' } }], image: { kind: 'build', ref: 'r/api:1', repo: 'api', context: '.', dockerfile: 'Dockerfile', args: {}, watch: [] } }),
    ]);
    const first = composeBackend.render(input, 'yaml');
    expect(composeBackend.render(input, 'yaml').stream).toBe(first.stream);
    expect(first.files).toEqual([{ path: 'compose.yaml', content: first.stream }]);
    expect(first.stream.split('\n').slice(0, 6)).toEqual([
      '# Rendered by diploid: project demo, environment test. Start with: docker compose up -d --build',
      '# Build contexts: each repo checkout, from a variable or beside this folder:',
      '#   API_DIR (default ../api)',
      '# Secrets read from the environment (the shell, or an env file given with --env-file):',
      '#   API_TOKEN = key "token" of secret "api"',
      'name: demo-test',
    ]);
    const json = composeBackend.render(input, 'json');
    expect(json.files.map((file) => file.path)).toEqual(['compose.json']);
    expect(JSON.parse(json.stream)).toEqual(compileCompose(input).file);
  });
});
