import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookCodecs } from '../hosts/codecs.js';
import { MalformedPayloadError } from '../hosts/errors.js';
import type { HostEvent } from '../hosts/event.js';
import type { WebhookRoute } from '../hosts/routes.js';
import type { DeliveryLog } from './delivery-log.js';
import { classifyError } from './errors.js';
import { deliveryKey, type OfferResult } from './event-queue.js';

/** Takes verified events; may write them somewhere durable first. */
export interface EventSink {
  offer(event: HostEvent): OfferResult | Promise<OfferResult>;
}

/** GitHub caps payloads at 25 MB; pushes diploid follows are far smaller, and the cap guards memory. */
export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface WebhookHandlerOptions {
  /** Routes by path (`/hooks/<host>/<repo>`), from `webhookRoutes`. */
  readonly routes: ReadonlyMap<string, WebhookRoute>;
  /** Where verified events go: the in-memory queue, or the in-cluster inbox every replica shares. */
  readonly queue: EventSink;
  /** Deliveries already handled, kept in the cluster so a restart does not forget them. */
  readonly deliveries?: DeliveryLog;
  readonly maxBodyBytes?: number;
  /** One line per delivery; never receives secrets or bodies. */
  readonly log?: (line: string) => void;
  /** What `/healthz` reports besides the endpoint answering: false (a stuck worker) answers 503. */
  readonly healthy?: () => boolean;
}

/**
 * Handles webhook deliveries: cap the size, check the content type, verify, parse, enqueue, 202.
 * It decides nothing about deploys, so it answers in milliseconds and hosts don't time out.
 */
export function createWebhookHandler(options: WebhookHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log ?? (() => {});

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') {
      if (req.method !== 'GET') return reply(res, 405, 'use GET');
      return options.healthy?.() === false ? reply(res, 503, 'the worker is stuck') : reply(res, 200, 'ok');
    }
    const route = options.routes.get(path);
    if (route === undefined) return reply(res, 404, 'no webhook here');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return reply(res, 405, 'use POST');
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') return refuse(req, res, 415, 'content type must be application/json');
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) return refuse(req, res, 413, 'body too large');

    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        done = true;
        refuse(req, res, 413, 'body too large');
        return;
      }
      chunks.push(chunk);
    });
    // A body cut short (the sender hung up) is dropped: it was never whole, so never verified.
    req.on('aborted', () => (done = true));
    req.on('error', () => (done = true));
    req.on('end', () => {
      if (done) return;
      done = true;
      const delivery = { headers: req.headers, body: Buffer.concat(chunks, size) };
      const codec = webhookCodecs[route.provider];
      const where = `${route.host}/${route.repo}`;
      if (!codec.verify(delivery, route.secret)) {
        log(`webhook ${where}: rejected, bad or missing signature`);
        return reply(res, 401, 'bad or missing signature');
      }
      if (!codec.matches(delivery)) return reply(res, 400, `missing the ${route.provider === 'github' ? 'X-GitHub-Event' : 'X-Gitlab-Event'} header`);
      let parsed;
      try {
        parsed = codec.parse(delivery, route);
      } catch (error) {
        if (error instanceof MalformedPayloadError) {
          log(`webhook ${where}: rejected, ${error.message}`);
          return reply(res, 400, error.message);
        }
        // A bug of ours: say so, and let the host retry the delivery later.
        log(`webhook ${where}: internal error (a bug in diploid): ${error instanceof Error ? error.message : String(error)}`);
        return reply(res, 500, 'internal error');
      }
      if (parsed.type === 'ignored') return reply(res, 202, `ignored: ${parsed.reason}`);
      void enqueue(parsed.event, where, res);
    });
  };

  async function enqueue(event: HostEvent, where: string, res: ServerResponse): Promise<void> {
    const ref = 'branch' in event ? event.branch : event.tag;
    if (options.deliveries !== undefined) {
      let fresh: boolean;
      try {
        fresh = await options.deliveries.claim(deliveryKey(event));
      } catch (error) {
        // Not known whether it is new: let the host deliver it again later.
        log(`webhook ${where}: delivery ${event.deliveryId} not recorded, asking for a retry: ${classifyError(error).message}`);
        res.setHeader('retry-after', '30');
        return reply(res, 503, 'cannot record the delivery now');
      }
      if (!fresh) {
        log(`webhook ${where}: ${event.kind} ${ref} delivery ${event.deliveryId} duplicate`);
        return reply(res, 202, 'duplicate');
      }
    }
    let result: OfferResult;
    try {
      result = await options.queue.offer(event);
    } catch (error) {
      log(`webhook ${where}: delivery ${event.deliveryId} not handed over, asking for a retry: ${classifyError(error).message}`);
      res.setHeader('retry-after', '30');
      return reply(res, 503, 'cannot hand the delivery over now');
    }
    if (result === 'full') {
      res.setHeader('retry-after', '30');
      return reply(res, 503, 'queue full');
    }
    log(`webhook ${where}: ${event.kind} ${ref} delivery ${event.deliveryId} ${result}`);
    return reply(res, 202, result);
  }
}

function reply(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ status: message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers before the body is read, then closes the connection rather than read what is left. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  res.setHeader('connection', 'close');
  reply(res, status, message);
  res.on('finish', () => req.destroy());
}

export interface RunningWebhookServer {
  readonly server: Server;
  /** `http://host:port`, with the port actually bound (useful with port 0). */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the handler on its own HTTP server. */
export async function startWebhookServer(options: WebhookHandlerOptions & { readonly port: number; readonly host?: string }): Promise<RunningWebhookServer> {
  const server = createServer(createWebhookHandler(options));
  // Slow senders must not hold connections open forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
