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
});
