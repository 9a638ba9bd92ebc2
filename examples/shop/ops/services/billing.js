import { defineService } from 'diploid';

// A legacy app that reads only /etc/billing/billing.ini: diploid renders the file at deploy
// time, and fills the database password in inside the pod, never in rendered output.
export default defineService({
  name: 'billing',
  files: {
    '/etc/billing/billing.ini': `[billing]
environment = {{ environment }}
currency = {{ shared.CURRENCY }}
api_url = {{ services.api.url }}
cache = {{ services.cache.address }}

[database]
host = db.internal.example.com
password = {{ secrets.shop-db.password }}
`,
  },
  environments: { production: { resources: { memory: '512Mi..1Gi' } } },
});
