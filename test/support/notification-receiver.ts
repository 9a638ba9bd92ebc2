/**
 * A real HTTP receiver on loopback for the controller's notifications (what a Slack incoming
 * webhook or any JSON receiver gets from `WebhookNotifier`): it keeps every payload it is sent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The parts of a notification payload tests read (notify.ts `notificationPayload`). */
export interface ReceivedNotification {
  readonly text: string;
  readonly diploid: { readonly kind: string; readonly environment: string; readonly reason: string; readonly message: string };
}

export interface NotificationReceiver {
  /** Where to send notifications. */
  readonly url: string;
  /** Every payload received, in order. */
  readonly received: ReceivedNotification[];
  close(): Promise<void>;
}

export async function startNotificationReceiver(): Promise<NotificationReceiver> {
  const received: ReceivedNotification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString()) as ReceivedNotification);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
