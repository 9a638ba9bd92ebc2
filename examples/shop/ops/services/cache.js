import { defineService } from 'diploid';
import { redisHealth } from '../lib/probes.js';

export default defineService({
  name: 'cache',
  image: 'redis:7.2-alpine',
  ports: { redis: { port: 6379, protocol: 'tcp' } },
  args: ['--save', '', '--appendonly', 'no'],
  health: redisHealth,
  volumes: { '/data': 'scratch' },
  resources: { cpu: '50m..200m', memory: '64Mi..128Mi' },
  security: { runAsUser: 999 },
});
