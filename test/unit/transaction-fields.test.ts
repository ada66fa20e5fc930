// The searchable fields of a transaction's log line: the recipients as log.recipients
// allows, the backend's queue id, the Message-ID (noted by a DATA stage).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { queueIdOf, recipientsForLog } from '../../proxy/smtp/transaction-fields.ts';
import { HEADER_BYTES, MAX_ID, MessageIdPeek } from '../../proxy/stages/message-id.ts';
import { runStages } from '../../proxy/stages/stage.ts';

describe('recipients on the log line', () => {
  const rcpts = ['Bob@Example.org', 'carol@example.org'];

  it('shows them in full, as pseudonyms, or not at all', () => {
    expect(recipientsForLog(rcpts, 'full')).toEqual(rcpts);
    expect(recipientsForLog(rcpts, 'none')).toBeUndefined();
    const hashed = recipientsForLog(rcpts, 'hash')!;
    expect(hashed).toHaveLength(2);
    for (const h of hashed) expect(h).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(hashed.join()).not.toMatch(/example/i);
  });

  it('hashes the address in lower case, as the README tells an admin to compute it', () => {
    const expected = createHash('sha256').update('bob@example.org').digest('hex').slice(0, 16);
    expect(recipientsForLog(['Bob@Example.org'], 'hash')).toEqual([`sha256:${expected}`]);
    expect(recipientsForLog(['bob@example.org'], 'hash')).toEqual(recipientsForLog(['BOB@EXAMPLE.ORG'], 'hash'));
  });
});

describe('the queue id in a backend 250', () => {
  it.each([
    ['2.0.0 Ok: queued as 4F2A1C0D', '4F2A1C0D'],
    ['2.0.0 Ok: queued as 4dMxVm0bYzz9tq', '4dMxVm0bYzz9tq'],
    ['2.0.0 Ok: queued as mx1-12', 'mx1-12'],
    ['OK id=1qAbCd-000Xyz-Ab', '1qAbCd-000Xyz-Ab'],
    ['2.0.0 4BKGx1ab012345 Message accepted for delivery', '4BKGx1ab012345'],
    ['2.0.0 Ok', null],
    ['2.6.0 <x@y> [InternalId=123, Hostname=mx] Queued mail for delivery', null],
  ])('%s -> %s', (text, id) => expect(queueIdOf(text)).toBe(id));
});

describe('MessageIdPeek', () => {
  const peek = (message: string, chunk = 7) => {
    const stage = new MessageIdPeek();
    const data = Buffer.from(message.replace(/\n/g, '\r\n'), 'latin1');
    const out: Buffer[] = [];
    for (let i = 0; i < data.length; i += chunk) out.push(...runStages([stage], data.subarray(i, i + chunk)));
    out.push(...runStages([stage], null));
    expect(Buffer.concat(out).equals(data)).toBe(true);
    return stage.messageId;
  };

  it('notes the Message-ID of the top header block, folded or not, whatever the chunks', () => {
    for (const chunk of [1, 3, 7, 1000]) {
      expect(peek('From: a@x.test\nMessage-ID: <abc@x.test>\nSubject: s\n\nbody\n', chunk)).toBe('<abc@x.test>');
      expect(peek('From: a@x.test\nmessage-id:\n  <folded@x.test>\nSubject: s\n\nbody\n', chunk)).toBe('<folded@x.test>');
    }
  });

  it('takes the first one, none from the body or an attached message, and none when the message has none', () => {
    expect(peek('Message-ID: <one@x>\nMessage-ID: <two@x>\n\nbody\n')).toBe('<one@x>');
    expect(peek('Subject: s\n\nMessage-ID: <in-body@x>\n')).toBeNull();
    expect(peek('Subject: s\nContent-Type: message/rfc822\n\nMessage-ID: <inner@x>\n\nhi\n')).toBeNull();
  });

  it('keeps what it notes bounded, and stops looking after HEADER_BYTES', () => {
    expect(peek(`Message-ID: <${'a'.repeat(5000)}@x>\n\nbody\n`)!.length).toBe(MAX_ID);
    expect(peek(`Message-ID: <a\u0001b@x>\n\n`)).toBe('<a b@x>');
    const filler = `X-Filler: ${'f'.repeat(1000)}\n`.repeat(Math.ceil(HEADER_BYTES / 1000) + 1);
    expect(peek(`${filler}Message-ID: <late@x>\n\nbody\n`, 4096)).toBeNull();
  });
});
