// Preloaded (`node --import`) into every measured process: on exit, writes the process's peak
// resident set size in KiB to the file named by DIPLOID_BENCH_RSS_FILE. Works on any OS Node runs on.
import { writeFileSync } from 'node:fs';

const target = process.env.DIPLOID_BENCH_RSS_FILE;
if (target) process.on('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS)));
