/**
 * What `import ... from 'diploid'` gives a config or service file when diploid evaluates it:
 * the typing helpers and value expressions, without the compiler behind them.
 */
export { defineConfig, defineService, defineFragment } from './model/define.js';
export { shared, secret, ref } from './model/values.js';
