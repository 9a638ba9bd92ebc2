import { z } from 'zod';
import { dataKey, dnsSubdomain } from './primitives.js';

export const sharedValueSchema = z.strictObject({ $shared: z.string().min(1) });
export const secretValueSchema = z.strictObject({
  $secret: z.strictObject({ name: dnsSubdomain, key: dataKey }),
});
export const serviceRefSchema = z.strictObject({
  $ref: z.string().min(1),
  part: z.enum(['address', 'host', 'port', 'url', 'origin']).default('address'),
  port: z.string().optional(),
});

/** Anything an environment variable may be set to. */
export const envValueSchema = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  sharedValueSchema,
  secretValueSchema,
  serviceRefSchema,
]);
export type EnvValueInput = z.input<typeof envValueSchema>;
