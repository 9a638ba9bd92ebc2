import { z } from 'zod';
import { dnsLabel, labelKey, labelValue, resourceRange } from './primitives.js';
import { envValueSchema } from './value-schemas.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'an environment variable name');

/** What every extra container says: what runs, with what, within what. */
const containerFields = {
  /** The image; the service's own image when omitted (a migration usually ships with the app). */
  image: z.string().min(1).optional(),
  /** A list, or a string run by `/bin/sh -c`. */
  command: z.union([z.string(), z.array(z.string())]).optional(),
  args: z.array(z.string()).optional(),
  /** Environment variables: literals, `shared(...)`, `secret(...)` or `ref(...)`. */
  env: z.record(envName, envValueSchema).optional(),
  /** `{ cpu: 'request..limit', memory: 'request..limit' }`. */
  resources: z.strictObject({ cpu: resourceRange.optional(), memory: resourceRange.optional() }).optional(),
};

/** A container beside the main one for the pod's whole life (a native sidecar). */
export const sidecarSchema = z.strictObject({ ...containerFields, image: z.string().min(1) });

/** A step run to completion before the main container starts (migration, seed, wait). */
export const initStepSchema = z.strictObject(containerFields);

/** A one-shot task run once per revision, before the new version rolls out. */
export const taskSchema = z.strictObject({
  ...containerFields,
  /** Retries after a failed run before the task, and so the rollout, counts as failed. */
  retries: z.number().int().min(0).max(20).optional(),
  /** Seconds the task may run in all before it counts as failed. */
  timeout: z.number().int().min(1).optional(),
});

/** A job run on a schedule (a CronJob). */
export const scheduleSchema = z.strictObject({
  ...containerFields,
  /** Cron syntax, e.g. `'0 3 * * *'`, or `@hourly`, `@daily`... */
  schedule: z.string().regex(/^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$/, 'a cron schedule such as "0 3 * * *" or "@daily"'),
  retries: z.number().int().min(0).max(20).optional(),
  /** Seconds one run may take before it counts as failed. */
  timeout: z.number().int().min(1).optional(),
});

/** Annotations: any key Kubernetes accepts as a label key, any text. */
export const annotationsSchema = z.record(labelKey, z.string());

/** Shapes beyond the single container: sidecars, steps, tasks, schedules, metadata. */
export const shapeFields = {
  /** Containers beside the main one, by name, for the pod's whole life (Kubernetes' native sidecars). */
  sidecars: z.record(dnsLabel, sidecarSchema).optional(),
  /** Steps run in order, each to completion, before the main container starts. */
  init: z.record(dnsLabel, initStepSchema).optional(),
  /** One-shot tasks run once per revision before it rolls out; a failed task stops the rollout. */
  tasks: z.record(dnsLabel, taskSchema).optional(),
  /** Jobs on a schedule: `{ cleanup: { schedule: '0 3 * * *', command: [...] } }`. */
  schedules: z.record(dnsLabel, scheduleSchema).optional(),
  /** Seconds an `after` wait tries before it gives up (the pod then restarts with back-off). */
  afterTimeout: z.number().int().min(1).optional(),
  /** The main container's name; the service's name by default. */
  containerName: dnsLabel.optional(),
  /** Annotations on this service's objects. */
  annotations: annotationsSchema.optional(),
  /** Labels and annotations on the pods only (meshes and autoscalers read them there). */
  pod: z.strictObject({ labels: z.record(labelKey, labelValue).optional(), annotations: annotationsSchema.optional() }).optional(),
};
