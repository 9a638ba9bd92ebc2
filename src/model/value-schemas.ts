import { z } from 'zod';

export const sharedValueSchema = z.strictObject({ $shared: z.string().min(1) });
export const secretValueSchema = z.strictObject({
  $secret: z.strictObject({ name: z.string().min(1), key: z.string().min(1) }),
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
