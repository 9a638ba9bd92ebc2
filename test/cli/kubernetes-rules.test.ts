import { describe, expect, it } from 'vitest';
import { MINIMAL_CONFIG, runCli, writeOpsRepo } from '../support/ops-repo.js';

// Kubernetes' own rules, checked by the resolver: each case once passed silently and failed only
// at the API server (or rendered something that does not exist). Exact text, file and path.
const svc = (body: string) => `import { defineService, ref, secret, shared } from 'diploid';\nexport default defineService(${body});\n`;
const conf = (body: string) => `import { defineConfig, secret } from 'diploid';\nexport default defineConfig(${body});\n`;

async function run(files: Record<string, string>, args: string[] = ['render', '.', '--env', 'production']) {
  return runCli(args, writeOpsRepo({ '.diploid.conf.js': MINIMAL_CONFIG, ...files }));
}

describe('the resolver checks Kubernetes rules and names the file and path', () => {
  it("refuses a service name that starts with a digit (Services need a letter first)", async () => {
    const result = await run({ 'services/api.js': svc("{ name: '9lives', image: 'nginx' }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/api.js:2 services[\"9lives\"].name: expected a service name: at most 63 lower-case letters, digits and \"-\", starting with a letter and ending with a letter or digit, got \"9lives\"\n");
  });

  it("refuses a name whose <name>-<environment> label overflows 63 characters", async () => {
    const result = await run({ 'services/api.js': svc(`{ name: '${'a'.repeat(53)}', image: 'nginx' }`) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/api.js:2 services.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.name: in environment \"production\" the label app.kubernetes.io/instance would be \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-production\" (<name>-<environment>, 64 characters); Kubernetes allows 63: use a name of at most 52 characters\n");
  });

  it("refuses a <project>-<environment> namespace over 63 characters", async () => {
    const result = await run({ '.diploid.conf.js': conf(`{ project: '${'p'.repeat(40)}', environments: { ['${'e'.repeat(30)}']: {} } }`), 'services/api.js': svc("{ name: 'api', image: 'nginx' }") }, ['validate', '.']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  .diploid.conf.js:2 environments.eeeeeeeeeeeeeeeeeeeeeeeeeeeeee: the namespace \"pppppppppppppppppppppppppppppppppppppppp-eeeeeeeeeeeeeeeeeeeeeeeeeeeeee\" (<project>-<environment>) has 71 characters; Kubernetes allows 63: set environments.eeeeeeeeeeeeeeeeeeeeeeeeeeeeee.namespace or shorten the names\n");
  });

  it("refuses port names that are not IANA service names", async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', ports: { 'a--b': 80, '123': 81, 'averyveryverylongname': 82 } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 3 problems in the configuration:\n  services/api.js:2 services.api.ports[\"123\"]: expected a key that is a port name: at most 15 lower-case letters, digits and \"-\", with at least one letter, no \"--\", not starting or ending with \"-\", got \"123\"\n  services/api.js:2 services.api.ports[\"a--b\"]: expected a key that is a port name: at most 15 lower-case letters, digits and \"-\", with at least one letter, no \"--\", not starting or ending with \"-\", got \"a--b\"\n  services/api.js:2 services.api.ports.averyveryverylongname: expected a key that is a port name: at most 15 lower-case letters, digits and \"-\", with at least one letter, no \"--\", not starting or ending with \"-\", got \"averyveryverylongname\"\n");
  });

  it("refuses label keys and values Kubernetes would refuse", async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', labels: { 'bad key!': 'x', team: 'not ok!' } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 2 problems in the configuration:\n  services/api.js:2 services.api.labels[\"bad key!\"]: expected a key that is a label key: a name of at most 63 letters, digits, \"-\", \"_\" and \".\" (starting and ending with a letter or digit), optionally after a DNS subdomain and \"/\", got \"bad key!\"\n  services/api.js:2 services.api.labels.team: expected a label value: at most 63 letters, digits, \"-\", \"_\" and \".\", starting and ending with a letter or digit, got \"not ok!\"\n");
  });

  it("refuses an upper-case route host", async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', port: 80, routes: ['API'] }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/api.js:2 services.api.routes[0]: host \"API.production.shop.test\" is not a host name Kubernetes accepts: lower-case letters, digits, \"-\" and \".\", each part at most 63 characters (optionally \"*.\" first)\n");
  });

  it("refuses an ingress class name that is not a DNS subdomain", async () => {
    const result = await run({ '.diploid.conf.js': conf("{ project: 'shop', ingress: { domain: 'shop.test', className: 'Nginx_Public' }, environments: { production: {} } }"), 'services/api.js': svc("{ name: 'api', image: 'nginx' }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  .diploid.conf.js:2 ingress.className: expected a DNS subdomain: at most 253 lower-case letters, digits, \"-\" and \".\", each part starting and ending with a letter or digit, got \"Nginx_Public\"\n");
  });

  it("refuses file paths that are not absolute and normalized, hold \":\" or take a volume's path", async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', volumes: { '/data': 'scratch' }, files: { '/etc/../x.conf': 'a', '/etc/a:b': 'b', '/data': 'c', '/etc//y': 'd' } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 4 problems in the configuration:\n  services/api.js:2 services.api.files[\"/etc/../x.conf\"]: expected an absolute, normalized path such as \"/etc/app/config.toml\", without \"//\", \".\" or \"..\" parts and without a trailing \"/\"\n  services/api.js:2 services.api.files[\"/etc/a:b\"]: expected an absolute, normalized path such as \"/etc/app/config.toml\", without \":\" (Kubernetes refuses it in mount paths)\n  services/api.js:2 services.api.files[\"/data\"]: is also a volume's path: a file and a volume cannot be mounted at the same place\n  services/api.js:2 services.api.files[\"/etc//y\"]: expected an absolute, normalized path such as \"/etc/app/config.toml\", without \"//\", \".\" or \"..\" parts and without a trailing \"/\"\n");
  });

  it("refuses files over the 1 MiB a ConfigMap holds", async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', files: { '/etc/big.txt': 'x'.repeat(1100000) } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/api.js:2 services.api.files[\"/etc/big.txt\"]: the service's files come to more than 1 MiB (1048576 bytes) with this one, the most a ConfigMap holds: use a volume or a smaller file\n");
  });

  it("refuses secret names and keys Kubernetes would refuse", async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', env: { A: secret('Bad_Name', 'key'), B: secret('db', 'bad key') } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 2 problems in the configuration:\n  services/api.js:2 services.api.env.A.$secret.name: expected a DNS subdomain: at most 253 lower-case letters, digits, \"-\" and \".\", each part starting and ending with a letter or digit, got \"Bad_Name\"\n  services/api.js:2 services.api.env.B.$secret.key: expected a key of letters, digits, \"-\", \"_\" and \".\" (at most 253 characters), got \"bad key\"\n");
  });

  it("refuses a request above its limit", async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', resources: { cpu: '500m..100m', memory: '1Gi..512Mi' } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 2 problems in the configuration:\n  services/api.js:2 services.api.resources.cpu: the request 500m is above the limit 100m; Kubernetes requires request <= limit (write \"100m..500m\"?)\n  services/api.js:2 services.api.resources.memory: the request 1Gi is above the limit 512Mi; Kubernetes requires request <= limit (write \"512Mi..1Gi\"?)\n");
  });

  it("refuses autoscaling with min above max", async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', replicas: { min: 5, max: 2 } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/api.js:2 services.api.replicas.min: expected no more than max (2), got 5\n");
  });

  it("refuses uid and gid values out of range", async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', security: { runAsUser: 4294967296, fsGroup: -1 } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 2 problems in the configuration:\n  services/api.js:2 services.api.security.runAsUser: expected at most 2147483647, got 4294967296\n  services/api.js:2 services.api.security.fsGroup: expected at least 0, got -1\n");
  });

  it("refuses services that wait for each other", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx', port: 80, after: ['b'] }"), 'services/b.js': svc("{ name: 'b', image: 'nginx', port: 80, after: ['a'] }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/b.js:2 services.b.after[0]: services wait for each other in a cycle (a -> b -> a): their pods would never start\n");
  });

  it("refuses the same node port twice", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx', port: 80, expose: { type: 'NodePort', nodePort: 30080 } }"), 'services/b.js': svc("{ name: 'b', image: 'nginx', port: 80, expose: { type: 'NodePort', nodePort: 30080 } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/b.js:2 services.b.expose.nodePort: node port 30080 is already taken by service \"a\"\n");
  });

  it("refuses --env __proto__ instead of rendering a non-existent environment", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx' }") }, ['render', '.', '--env', '__proto__']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: unknown environment \"__proto__\"; .diploid.conf.js defines production\n");
  });

  it("refuses --env toString instead of rendering a non-existent environment", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx' }") }, ['render', '.', '--env', 'toString']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: unknown environment \"toString\"; .diploid.conf.js defines production\n");
  });

  it("refuses shared('constructor'), which is not a shared value", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx', env: { X: shared('constructor') } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/a.js:2 services.a.env.X: shared value \"constructor\" is not defined in the config's shared values\n");
  });

  it("refuses extends: ['constructor'], which is not a fragment", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx', extends: ['constructor'] }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/a.js:2 services.a.extends[0]: no fragment is named \"constructor\"\n");
  });

  it("refuses an own __proto__ key instead of dropping it (the loader's copy refuses it first)", async () => {
    const result = await run({ 'services/a.js': "export default JSON.parse('{\"name\":\"a\",\"image\":\"nginx\",\"env\":{\"__proto__\":{\"X\":\"1\"}}}');\n" });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/a.js cannot be loaded: its default export is not plain data: env.__proto__: a key named \"__proto__\" is not allowed\n");
  });

  it("refuses a number in a secret-looking variable", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx', env: { DB_PASSWORD: 31337001 } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/a.js:2 services.a.env.DB_PASSWORD: looks like a secret written inline (\"********\"); use secret('<secret-name>', '<key>') so the value stays out of git and rendered output\n");
  });

  it("refuses a plain shared value in a secret-looking variable", async () => {
    const result = await run({ '.diploid.conf.js': conf("{ project: 'shop', shared: { PLAIN_PW: 'x' }, environments: { production: {} } }"), 'services/a.js': svc("{ name: 'a', image: 'nginx', env: { DB_PASSWORD: shared('PLAIN_PW') } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/a.js:2 services.a.env.DB_PASSWORD: takes shared value \"PLAIN_PW\", which is a plain value, but the name says it holds a secret; define shared \"PLAIN_PW\" as secret('<secret-name>', '<key>'), or use secret() here\n");
  });

  it("refuses a number in a secret-looking shared value", async () => {
    const result = await run({ '.diploid.conf.js': conf("{ project: 'shop', shared: { DB_PASSWORD: 31337001 }, environments: { production: {} } }"), 'services/a.js': svc("{ name: 'a', image: 'nginx' }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  .diploid.conf.js:2 shared.DB_PASSWORD: looks like a secret written inline; use secret('<secret-name>', '<key>') so the value stays out of git and rendered output\n");
  });

  it("refuses a dependency whose wait step name overflows 63 characters", async () => {
    const result = await run({ 'services/a.js': svc(`{ name: 'a', image: 'nginx', after: ['${'b'.repeat(56)}'] }`), 'services/b.js': svc(`{ name: '${'b'.repeat(56)}', image: 'nginx', port: 80 }`) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 2 problems in the configuration:\n  services/a.js:2 services.a.after[0]: the init step that waits for it would be named \"wait-for-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\" (65 characters); Kubernetes allows 63: a service others wait for needs a name of at most 54 characters\n  services/b.js:2 services.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.name: in environment \"production\" the label app.kubernetes.io/instance would be \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-production\" (<name>-<environment>, 67 characters); Kubernetes allows 63: use a name of at most 52 characters\n");
  });

  it("refuses a StatefulSet name that leaves no room for its revision hash", async () => {
    const result = await run({ 'services/a.js': svc(`{ name: '${'s'.repeat(53)}', image: 'nginx', replicas: 2, volumes: { '/data': { size: '1Gi' } } }`) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 2 problems in the configuration:\n  services/a.js:2 services.sssssssssssssssssssssssssssssssssssssssssssssssssssss.name: in environment \"production\" the label app.kubernetes.io/instance would be \"sssssssssssssssssssssssssssssssssssssssssssssssssssss-production\" (<name>-<environment>, 64 characters); Kubernetes allows 63: use a name of at most 52 characters\n  services/a.js:2 services.sssssssssssssssssssssssssssssssssssssssssssssssssssss.name: runs as a StatefulSet (persistent volumes, several replicas), whose pods carry \"<name>-<revision hash>\" in a label: use a name of at most 52 characters\n");
  });

  it("refuses two volume paths that give the same volume name", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx', volumes: { '/data/a': 'scratch', '/data-a': 'scratch' }, files: { '/etc/x': 'x' } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/a.js:2 services.a.volumes[\"/data/a\"]: gives the volume name \"data-a\", like \"/data-a\": use paths that differ in more than punctuation\n");
  });

  it("refuses a volume that takes the name of diploid's files volume", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx', volumes: { '/files': 'scratch' }, files: { '/etc/x': 'x' } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/a.js:2 services.a.volumes[\"/files\"]: gives the volume name \"files\", which diploid uses for config files: use another path\n");
  });

  it('refuses a file name that makes a ConfigMap key over 253 characters', async () => {
    const result = await run({ 'services/api.js': svc("{ name: 'api', image: 'nginx', files: { ['/etc/' + 'k'.repeat(254)]: 'x' } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `error: 1 problem in the configuration:\n  services/api.js:2 services.api.files["/etc/${'k'.repeat(254)}"]: its file name makes the ConfigMap key "${'k'.repeat(57)}..." (254 characters), which Kubernetes refuses: at most 253 letters, digits, "-", "_" and "."\n`,
    );
  });

  it("refuses a secret name in a template that Kubernetes would refuse", async () => {
    const result = await run({ 'services/a.js': svc("{ name: 'a', image: 'nginx', files: { '/etc/x': '{{ secrets.Bad_Name.key }}' } }") });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("error: 1 problem in the configuration:\n  services/a.js:2 services.a.files[\"/etc/x\"]: {{ secrets.Bad_Name.key }}: secret name \"Bad_Name\" is not a Kubernetes Secret name: lower-case letters, digits and \"-\"\n");
  });
});

describe('render and validate run the Kubernetes schema check', () => {
  // 3,000,000,000 replicas passes diploid's own schema; the API's says replicas is an int32.
  const files = { 'services/api.js': svc("{ name: 'api', image: 'nginx', replicas: 3000000000 }") };
  const expected = 'error: 1 problem in the configuration:\n  services/api.js services.api: Kubernetes would refuse Deployment/api in environment "production": data/spec/replicas must match format "int32"\n';

  it('in render, before writing anything', async () => {
    const result = await run(files);
    expect(result).toEqual({ code: 1, stdout: '', stderr: expected });
  });

  it('in validate', async () => {
    const result = await run(files, ['validate', '.']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: expected });
  });
});

describe('names that every JavaScript object has are ordinary names', () => {
  it('renders a service named "constructor" with its own environment override', async () => {
    const result = await run({
      '.diploid.conf.js': conf("{ project: 'shop', environments: { production: { services: { constructor: { replicas: 2 }, api: { replicas: 3 } } } } }"),
      'services/c.js': svc("{ name: 'constructor', image: 'nginx' }"),
      'services/api.js': svc("{ name: 'api', image: 'nginx', environments: { production: { replicas: 4 } } }"),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('kind: Deployment\nmetadata:\n  name: constructor\n');
    expect(result.stdout.match(/replicas: \d/g)).toEqual(['replicas: 3', 'replicas: 2']);
  });

  it('refuses a __proto__ key in the config, in validate too', async () => {
    const result = await run(
      {
        '.diploid.conf.js': `export default JSON.parse('{"project":"shop","environments":{"production":{}},"shared":{"__proto__":{"polluted":"yes"}}}');\n`,
        'services/c.js': svc("{ name: 'api', image: 'nginx' }"),
      },
      ['validate', '.'],
    );
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: 1 problem in the configuration:\n  .diploid.conf.js cannot be loaded: its default export is not plain data: shared.__proto__: a key named "__proto__" is not allowed\n',
    });
  });
});
