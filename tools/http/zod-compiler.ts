import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { findInvalidText } from '../../core/text-guard.js';
import { invalidInput, invalidText } from '../validation.js';

/**
 * Request validation with zod and our Chinese messages (tools/validation.ts), used in place of
 * fastify-type-provider-zod's validatorCompiler, whose messages are English; its serializer
 * and OpenAPI transform are used as they are. Unusable text (NUL, control characters, lone
 * surrogates) in params, query, headers or body is a 400 before the schema is even tried.
 */
export const zhValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema }) => (data) => {
  const where = findInvalidText(data);
  if (where) return { error: invalidText(where) };
  const r = schema.safeParse(data);
  return r.success ? { value: r.data } : { error: invalidInput(r.error.issues) };
};
