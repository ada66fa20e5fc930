// One catalogue of error codes (nodemailer habit): stable strings that tests pin and
// logs carry. An error from a backend carries the command and the reply it got.
//
// Every relay failure is one of three kinds, decided by its code and never by its
// text (DESIGN.md "Failures come in three kinds"): only a backend-unhealthy failure
// counts toward a backend's health and moves a transaction to another backend; a
// transaction-refused one is the answer the client gets; a client-gone one frees the
// session's resources quietly.

export const ERROR_CODES = {
  ECONNECTION: 'could not connect to the backend or the connection was lost',
  ETIMEDOUT: 'the backend did not answer in time',
  EPROTOCOL: 'the backend sent something that is not an SMTP reply, or a reply nobody asked for',
  EREPLY: "the backend refused the transaction: its 4xx or 5xx to MAIL, RCPT, DATA or the final dot",
  EABORTED: 'the transaction was aborted by the proxy',
  EINVALID: 'the config or scenario file is invalid',
  ESTORE: 'the shared limit store (Redis) is unreachable and the store fails closed',
  ECLOSING: 'the backend answered 421: it is closing the connection',
  ECLIENTGONE: 'the client went away before its transaction was answered',
  ENOCAPACITY: 'every connection the backend may have is busy (maxConnections) and none came free in time',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export type FailureKind = 'backend-unhealthy' | 'transaction-refused' | 'client-gone' | 'proxy';

const KINDS: Record<ErrorCode, FailureKind> = {
  ECONNECTION: 'backend-unhealthy',
  ETIMEDOUT: 'backend-unhealthy',
  EPROTOCOL: 'backend-unhealthy',
  ECLOSING: 'backend-unhealthy',
  EREPLY: 'transaction-refused',
  ECLIENTGONE: 'client-gone',
  EABORTED: 'proxy',
  ENOCAPACITY: 'proxy',
  EINVALID: 'proxy',
  ESTORE: 'proxy',
};

export function failureKind(code: ErrorCode): FailureKind {
  return KINDS[code];
}

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

  get kind(): FailureKind {
    return failureKind(this.code);
  }
}
