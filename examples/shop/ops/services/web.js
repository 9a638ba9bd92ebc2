import { defineService } from 'diploid';

export default defineService({
  name: 'web',
  routes: ['@'],
  // The SPA cannot read the environment: its runtime config is a file rendered at deploy time.
  files: { '/usr/share/nginx/html/config.js': 'window.SHOP = { api: "{{ services.api.origin }}", currency: "{{ shared.CURRENCY }}" };\n' },
});
