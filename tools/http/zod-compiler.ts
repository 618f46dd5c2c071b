import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { invalidInput, safeParseZh } from '../validation.js';

/**
 * Request validation with zod and Chinese messages (zod's zh-CN locale per parse). Used in
 * place of fastify-type-provider-zod's validatorCompiler, whose messages are English; its
 * serializer and OpenAPI transform are used as they are.
 */
export const zhValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema }) => (data) => {
  const r = safeParseZh(schema, data);
  return r.success ? { value: r.data } : { error: invalidInput(r.error.issues) };
};
