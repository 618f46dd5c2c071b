import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskSensitiveText } from './mask.js';

/**
 * The one logger factory. Personal identifiers are masked on the way out: known keys are
 * censored by pino's redaction, and free text (messages, transcripts) is scrubbed of ID
 * numbers, phone numbers and bank accounts by a log-method hook. `destination` defaults to
 * stdout; the stdio MCP server logs to stderr (`pino.destination(2)`).
 */
export function createLogger(level: LoggerOptions['level'] = 'info', name = 'xiaoshen', destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'id_number', '*.id_number', '*.*.id_number', 'idNumber', '*.idNumber',
        'phone', '*.phone', '*.*.phone', 'bank_account', '*.bank_account', '*.*.bank_account',
        'req.headers.authorization', 'headers.authorization', 'password', '*.password', 'token', '*.token',
      ],
      censor: '[masked]',
    },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? maskSensitiveText(a) : a));
        method.apply(this, masked as Parameters<typeof method>);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
