import { defineService } from 'diploid';

export default defineService({
  name: 'log-agent',
  image: 'fluent/fluent-bit:3.1',
  placement: 'one-per-host',
  files: {
    '/fluent-bit/etc/fluent-bit.conf': `[SERVICE]
    log_level {{ shared.LOG_LEVEL }}
[INPUT]
    name cpu
[OUTPUT]
    name stdout
    match *
`,
  },
  resources: { cpu: '20m..100m', memory: '32Mi..64Mi' },
  // fluent-bit's image runs as root, which the hardened defaults refuse; it needs no root to read
  // its config and the host's CPU counters.
  security: { runAsUser: 65534 },
});
