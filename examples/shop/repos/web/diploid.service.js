import { defineService } from 'diploid';

// The web team's own file: how to build. Where it runs is the ops repo's business.
export default defineService({
  name: 'web',
  spa: { output: 'dist' },
});
