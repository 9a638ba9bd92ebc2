#!/usr/bin/env node
// The CLI as built by `npm run build`: one bundle with a chunk per command (scripts/bundle.mjs).
import { main } from '../dist/bundle/main.js';

process.exitCode = await main(process.argv.slice(2));
