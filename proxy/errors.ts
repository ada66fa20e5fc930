// One catalogue of error codes (nodemailer habit): stable strings that tests pin and
// logs carry. An error from a backend carries the command and the reply it got.

export const ERROR_CODES = {
  ECONNECTION: 'could not connect to the backend or the connection was lost',
  ETIMEDOUT: 'the backend did not answer in time',
  EPROTOCOL: 'the backend sent something that is not an SMTP reply',
  EREPLY: 'the backend answered with a failure reply',
  EABORTED: 'the transaction was aborted by the proxy',
  EINVALID: 'the config or scenario file is invalid',
  ESTORE: 'the shared limit store (Redis) is unreachable and the store fails closed',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SmtpClientError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly command?: string,
    readonly responseCode?: number,
    readonly response?: string,
  ) {
    super(message);
    this.name = 'SmtpClientError';
  }
}
