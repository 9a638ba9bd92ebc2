/**
 * A plain TCP forwarder, run as a daemon by pod-gateway.ts: each argument `LISTEN=TARGET`
 * (`10.244.0.1:6443=127.0.0.1:6443`) listens on LISTEN and pipes every connection to TARGET,
 * bytes unchanged (TLS passes through). It makes the bed's loopback services reachable from pods.
 */
import { createConnection, createServer } from 'node:net';

function hostPort(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`expected host:port, got "${text}"`);
  return { host: text.slice(0, colon), port };
}

const pairs = process.argv.slice(2).map((arg) => {
  const [listen, target] = arg.split('=');
  if (listen === undefined || target === undefined) throw new Error(`expected LISTEN=TARGET, got "${arg}"`);
  return { listen: hostPort(listen), target: hostPort(target) };
});
if (pairs.length === 0) throw new Error('usage: tcp-forward.ts LISTEN=TARGET...');

for (const { listen, target } of pairs) {
  const server = createServer((client) => {
    const upstream = createConnection(target);
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side failing or closing ends the other: no half-open connections pile up.
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  server.on('error', (error) => {
    console.error(`tcp-forward: ${listen.host}:${listen.port}: ${error.message}`);
    process.exit(1);
  });
  server.listen(listen.port, listen.host, () => console.log(`tcp-forward: ${listen.host}:${listen.port} -> ${target.host}:${target.port}`));
}
