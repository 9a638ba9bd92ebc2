// The Redis client the api and the worker share (each image copies shared/ beside its own folder):
// a few lines (the app has no dependencies), one command per connection, over RESP, for the
// integer, status and string replies the app uses.
import { connect } from 'node:net';

const [host, port] = (process.env.REDIS_ADDR ?? 'localhost:6379').split(':');

/** Sends one command; resolves with its reply (a number, a string, or null for a missing key). */
export function redis(...args) {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host);
    let data = Buffer.alloc(0);
    socket.setTimeout(2000, () => socket.destroy(new Error(`redis at ${host}:${port} did not answer`)));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n');
      if (end === -1) return;
      const line = data.subarray(0, end).toString();
      const kind = line[0];
      const rest = line.slice(1);
      if (kind === '$' && rest !== '-1' && data.length < end + 2 + Number(rest) + 2) return;
      socket.end();
      if (kind === '-') reject(new Error(`redis: ${rest}`));
      else if (kind === ':') resolve(Number(rest));
      else if (kind === '$') resolve(rest === '-1' ? null : data.subarray(end + 2, end + 2 + Number(rest)).toString());
      else resolve(rest);
    });
    socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(String(arg))}\r\n${arg}\r\n`).join('')}`);
  });
}
