// Preloaded (`node --import`) into the controller that the push benchmark starts as its own
// process (`bin/diploid.js controller`, as its Deployment runs it), to count what a push costs
// without changing what the controller does: every HTTP request the process makes (client-node
// speaks through node's http module, whose diagnostics channel sees each one) and every file
// handed to an evaluation sandbox (diploid publishes those on its own channel, which costs nothing
// without a subscriber). The bench asks for the counts over the IPC channel it starts the process
// with; resident memory it reads itself from /proc.
//   DIPLOID_BENCH_TRACE=1: each request's start and response, with the time, on stderr.
import diagnosticsChannel from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const counts = { requests: 0, evaluations: 0 };
const trace = process.env.DIPLOID_BENCH_TRACE !== undefined;
diagnosticsChannel.subscribe('http.client.request.start', ({ request }) => {
  counts.requests++;
  if (trace) process.stderr.write(`${new Date().toISOString()} request ${request.method} ${request.path}\n`);
});
if (trace) diagnosticsChannel.subscribe('http.client.response.finish', ({ request, response }) => process.stderr.write(`${new Date().toISOString()} response ${response.statusCode} ${request.method} ${request.path}\n`));
diagnosticsChannel.subscribe('diploid:sandbox:files', ({ files }) => (counts.evaluations += files));

let inspector;
process.on('message', async (message) => {
  if (message?.op === 'counts') {
    // With --expose-gc (DIPLOID_BENCH_NODE_ARGS): a full collection first, so RSS and heap are after it.
    globalThis.gc?.();
    const memory = process.memoryUsage();
    // V8's heap by space, committed MiB: what the heap holds beyond what is live (new space grows with a push's garbage).
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name.replace(/_space$/, ''), Math.round(space.physical_space_size / 1048576)]));
    process.send({ op: 'counts', ...counts, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, spaces });
  } else if (message?.op === 'profile-start') {
    // Where the pushes' allocations come from (sampled, objects already collected included).
    const { Session } = await import('node:inspector/promises');
    inspector = new Session();
    inspector.connect();
    await inspector.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    process.send({ op: 'profile-start' });
  } else if (message?.op === 'profile-stop') {
    writeFileSync(message.file, JSON.stringify((await inspector.post('HeapProfiler.stopSampling')).profile));
    process.send({ op: 'profile-stop' });
  } else if (message?.op === 'snapshot') {
    // A heap snapshot (DIPLOID_BENCH_HEAP_SNAPSHOT): what the controller holds after the last push.
    const { writeHeapSnapshot } = await import('node:v8');
    globalThis.gc?.();
    writeHeapSnapshot(message.file);
    process.send({ op: 'snapshot' });
  }
});
// The channel must not keep the controller alive, nor count as its work.
process.channel?.unref();
