import { defineService } from 'diploid';

export default defineService({
  name: 'billing',
  image: 'registry.example.com/vendor/billing:4.2',
  port: 9000,
  health: { http: { path: '/status', headers: { 'X-Probe': 'kubelet' } } },
  volumes: { '/var/lib/billing': { size: '5Gi' } },
  security: { runAsUser: 1000, fsGroup: 1000 },
});
