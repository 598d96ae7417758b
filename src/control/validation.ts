// Request schemas are zod schemas; a failure becomes 400 VALIDATION naming the field.
import type { z } from 'zod';
import { ApiError } from './errors.js';

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : what;
  throw new ApiError('VALIDATION', `${field}: ${issue.message}`);
}
