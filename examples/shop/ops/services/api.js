import { defineService, ref, shared } from 'diploid';

export default defineService({
  name: 'api',
  env: {
    REDIS_ADDR: ref('cache').address,
    DATABASE_HOST: 'db.internal.example.com',
    DATABASE_PASSWORD: shared('DATABASE_PASSWORD'),
  },
  routes: ['api'],
  cors: { origins: [ref('web').origin], credentials: true },
  after: ['cache'],
  disruption: { minAvailable: 1 },
  serviceAccount: true,
});
