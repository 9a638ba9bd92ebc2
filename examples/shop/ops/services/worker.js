import { defineService, ref } from 'diploid';

export default defineService({
  name: 'worker',
  env: { REDIS_ADDR: ref('cache').address, API_URL: ref('api').url },
  replicas: 2,
  placement: 'spread',
});
