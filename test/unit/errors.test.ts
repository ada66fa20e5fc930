// The error codes are a contract (logs and callers match on them): pinned here.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, failureKind, SmtpClientError } from '../../proxy/errors.ts';
import { InvalidFileError } from '../../proxy/config/problems.ts';
import { StoreUnavailableError } from '../../proxy/store/redis-store.ts';

describe('error catalogue', () => {
  it('keeps its codes', () => {
    expect(Object.keys(ERROR_CODES)).toEqual(['ECONNECTION', 'ETIMEDOUT', 'EPROTOCOL', 'EREPLY', 'EABORTED', 'EINVALID', 'ESTORE', 'ECLOSING', 'ECLIENTGONE', 'ENOCAPACITY']);
  });

  it('gives every code one kind: only backend-unhealthy ones count toward health and failover', () => {
    const kinds = Object.fromEntries(Object.keys(ERROR_CODES).map((c) => [c, failureKind(c as keyof typeof ERROR_CODES)]));
    expect(kinds).toEqual({
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
    });
    expect(new SmtpClientError('ECLOSING', '421').kind).toBe('backend-unhealthy');
  });

  it('errors carry their code, and a backend error its command and reply', () => {
    const e = new SmtpClientError('EREPLY', 'backend answered RCPT with 550', 'RCPT TO:<a@b>', 550, '5.1.1 no such user');
    expect(e).toMatchObject({ code: 'EREPLY', command: 'RCPT TO:<a@b>', responseCode: 550, response: '5.1.1 no such user' });
    expect(new InvalidFileError('x.yaml', [{ path: 'a', message: 'b' }])).toMatchObject({ code: 'EINVALID', exitCode: 104 });
    expect(new StoreUnavailableError('down').code).toBe('ESTORE');
  });
});
