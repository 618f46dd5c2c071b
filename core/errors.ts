/**
 * An error a caller can act on: a stable code, an HTTP status and a Chinese message a
 * citizen can read. Everything else is an internal error and is never shown verbatim.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what = '记录') => new AppError('not_found', 404, `未找到该${what}，或您无权查看。`);
export const forbidden = (msg = '您没有权限进行此操作。') => new AppError('forbidden', 403, msg);
export const unauthorized = (msg = '请先登录。') => new AppError('unauthorized', 401, msg);
export const badRequest = (msg: string, details?: Record<string, unknown>) => new AppError('bad_request', 400, msg, details);
