import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';

/** The one error shape of the HTTP API: `{"error": {"code", "message"}}`, message in Chinese. */
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof ErrorBody>;

const FASTIFY_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large', '请求内容过大，请精简后重试。'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', '不支持的内容类型，请使用 application/json。'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length', '请求内容长度与声明不符。'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'empty_body', '请求内容为空：声明了 JSON 格式，但没有提供内容。'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', '请求内容不是有效的 JSON，请检查格式。'],
  FST_ERR_VALIDATION: [400, 'invalid_input', '请求参数不正确，请检查后重试。'],
  FST_ERR_NOT_FOUND: [404, 'route_not_found', '请求的接口不存在。'],
};

export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  const body = (code: string, message: string): ErrorBody => ({ error: { code, message } });
  if (err instanceof AppError) return { status: err.status, body: body(err.code, err.message), internal: false };
  const e = err as Partial<FastifyError> & { status?: number };
  if (isResponseSerializationError(err)) return { status: 500, body: body('internal', '系统繁忙，请稍后再试。'), internal: true };
  const known = e.code ? FASTIFY_ERRORS[e.code] : undefined;
  if (known) return { status: known[0], body: body(known[1], known[2]), internal: false };
  if (err instanceof SyntaxError && (e.statusCode ?? 400) === 400) {
    return { status: 400, body: body('invalid_json', FASTIFY_ERRORS.FST_ERR_CTP_INVALID_JSON_BODY![2]), internal: false };
  }
  if (e.validation) return { status: 400, body: body('invalid_input', '请求参数不正确，请检查后重试。'), internal: false };
  const status = e.statusCode ?? e.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: body('bad_request', '请求无法处理，请检查后重试。'), internal: false };
  }
  return { status: 500, body: body('internal', '系统繁忙，请稍后再试。'), internal: true };
}

/** Global error handler: AppErrors and client errors as 4xx, everything else a logged 500. */
export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const r = toErrorResponse(err);
  if (r.internal) req.log.error({ err }, 'request failed');
  else req.log.info({ code: r.body.error.code, status: r.status }, 'request rejected');
  void reply.status(r.status).send(r.body);
}

export function notFoundHandler(_req: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send({ error: { code: 'route_not_found', message: '请求的接口不存在。' } });
}
