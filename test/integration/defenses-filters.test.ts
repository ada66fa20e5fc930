// Content filters through the real proxy, with messages built by nodemailer (a real
// mail client) and by hand: blocked attachments (double extensions, RFC 2231 and
// RFC 2047 encoded names, nested parts, a forwarded message), the EICAR string (plain
// and base64), spam scores (configured and default rules) and the X-Spam-Score a clean
// message carries. Every refusal is 554 5.7.1, names what fired, leaves nothing at the
// backend, and is counted in /metrics.
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-smtp.ts';
import { backends, closeAll, message, proxyFor } from '../helpers/proxy.ts';
import { addr, bigMessage, greeted, openData, refusals, until } from '../helpers/defenses.ts';
import type { MockBackend } from '../../simulator/mock-backend.ts';
import type { Proxy } from '../../proxy/proxy.ts';
import { zip } from '../helpers/zip.ts';

let mocks: MockBackend[] = [];
let proxy: Proxy | undefined;
afterEach(async () => {
  await closeAll(proxy, mocks);
  proxy = undefined;
  mocks = [];
});

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

/** Sends through nodemailer; returns the SMTP code and text the proxy answered DATA with. */
async function sendMail(mail: Mail.Options, local = addr(80, 0)): Promise<{ code: number; text: string }> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: proxy!.address.port, secure: false, ignoreTLS: true, localAddress: local } as never);
  try {
    const info = await transport.sendMail({ from: 'a@sender.test', to: 'b@example.test', subject: 'hello', text: 'hello\n', ...mail });
    return { code: Number(info.response.slice(0, 3)), text: info.response.slice(4) };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string };
    if (!e.responseCode) throw err;
    return { code: e.responseCode, text: (e.response ?? '').slice(4) };
  } finally {
    transport.close();
  }
}

/** The raw bytes nodemailer would send for `mail`. */
function compose(mail: Mail.Options): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    new MailComposer({ from: 'a@sender.test', to: 'b@example.test', subject: 'fwd', text: 'see attached\n', ...mail }).compile().build((err, b) => (err ? reject(err) : resolve(b))),
  );
}

/** Sends a raw message with a byte-level client. */
async function sendRaw(raw: string | Buffer, local = addr(81, 0)): Promise<{ code: number; text: string }> {
  const { c } = await greeted(proxy!.address.port, local);
  try {
    expect((await openData(c, 'a@sender.test', ['b@example.test'])).at(-1)?.code).toBe(354);
    const body = Buffer.isBuffer(raw) ? raw.toString('latin1') : raw;
    const r = await c.cmd(body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..').replace(/(\r\n)?$/, '\r\n') + '.');
    return { code: r?.code ?? 0, text: r?.text ?? '' };
  } finally {
    c.close();
  }
}

describe('worm filter', () => {
  it('refuses a double-extension attachment (invoice.pdf.exe, base64) with 554 5.7.1', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const r = await sendMail({ headers: { 'X-Attitude-Id': 'worm1' }, attachments: [{ filename: 'invoice.pdf.exe', content: Buffer.from('MZ\x90\x00fake executable') }] });
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/^5\.7\.1 message refused: blocked attachment type.*invoice\.pdf\.exe.*\.exe/);
    expect(mocks[0].received).toHaveLength(0);
    expect(await refusals(proxy, 'worm-attachment', { stage: 'data', code: '554' })).toBe(1);
  });

  it('reads RFC 2231 encoded and continued file names (as nodemailer writes long non-ASCII names)', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const filename = 'Rechnung-für-Ihre-Bestellung-Nummer-2024-0815-bitte-sofort-öffnen.pdf.scr';
    const raw = await compose({ attachments: [{ filename, content: 'x' }] });
    expect(raw.toString('latin1')).toMatch(/filename\*0\*=utf-8''/i);
    expect((await sendMail({ attachments: [{ filename, content: 'x' }] })).code).toBe(554);
    // by hand: the extension only appears after decoding and joining the segments
    const hand = [
      'From: a@sender.test',
      'To: b@example.test',
      'Subject: hand made',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--b1',
      'Content-Type: application/octet-stream',
      "Content-Disposition: attachment; filename*0*=utf-8''invoice%2Epdf; filename*1*=%2E%65%78%65",
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('MZ fake').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n');
    const r = await sendRaw(hand);
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/invoice\.pdf\.exe/);
    expect(mocks[0].received).toHaveLength(0);
  });

  it('finds the name in an RFC 2047 encoded word and in a nested part', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const nested = [
      'From: a@sender.test',
      'To: b@example.test',
      'Subject: nested',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary="inner"',
      '',
      '--inner',
      'Content-Type: text/plain',
      '',
      'plain',
      '--inner',
      `Content-Type: application/octet-stream; name="=?utf-8?B?${Buffer.from('photo.jpg.vbs').toString('base64')}?="`,
      'Content-Transfer-Encoding: base64',
      '',
      'AAAA',
      '--inner--',
      '--outer--',
      '',
    ].join('\r\n');
    const r = await sendRaw(nested);
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/photo\.jpg\.vbs/);
    expect(mocks[0].received).toHaveLength(0);
  });

  it('looks inside a forwarded message (message/rfc822 attachment)', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const inner = await compose({ subject: 'inner', attachments: [{ filename: 'update.exe', content: 'MZ' }] });
    const r = await sendMail({ headers: { 'X-Attitude-Id': 'fwd' }, attachments: [{ filename: 'forwarded.eml', content: inner, contentType: 'message/rfc822' }] });
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/update\.exe/);
    // RFC 2046 allows only 7bit/8bit/binary for message/rfc822, but mail clients open a base64 one too
    const encoded = await compose({
      attachments: [{ filename: 'forwarded.eml', content: inner, contentType: 'message/rfc822', contentTransferEncoding: 'base64' }],
    });
    expect(encoded.toString('latin1')).toMatch(/Content-Type: message\/rfc822[^]*?Content-Transfer-Encoding: base64/);
    const r2 = await sendRaw(encoded);
    expect(r2.code).toBe(554);
    expect(r2.text).toMatch(/update\.exe/);
    expect(mocks[0].received).toHaveLength(0);
  });

  it('decodes quoted-printable forwarded messages too, and fails closed on too many encoded levels', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const worm = await compose({ subject: 'inner', attachments: [{ filename: 'setup.bat', content: '@echo off' }] });
    const qp = await compose({ attachments: [{ filename: 'fwd.eml', content: worm, contentType: 'message/rfc822', contentTransferEncoding: 'quoted-printable' }] });
    expect(qp.toString('latin1')).toMatch(/Content-Transfer-Encoding: quoted-printable/);
    const r = await sendRaw(qp);
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/setup\.bat/);
    // a harmless message wrapped in 6 base64 layers cannot be read to the bottom: refused
    let wrapped = await compose({ subject: 'harmless' });
    for (let i = 0; i < 6; i++) {
      wrapped = await compose({ attachments: [{ filename: `layer${i}.eml`, content: wrapped, contentType: 'message/rfc822', contentTransferEncoding: 'base64' }] });
    }
    const deep = await sendRaw(wrapped, addr(81, 1));
    expect(deep.code).toBe(554);
    expect(deep.text).toMatch(/not checkable \(too-deep\)/);
    // two layers are read and pass
    let two = await compose({ subject: 'harmless', headers: { 'X-Attitude-Id': 'two-layers' } });
    for (let i = 0; i < 2; i++) two = await compose({ attachments: [{ filename: `l${i}.eml`, content: two, contentType: 'message/rfc822', contentTransferEncoding: 'base64' }] });
    expect((await sendRaw(two, addr(81, 2))).code).toBe(250);
    expect(mocks[0].received).toHaveLength(1);
  });

  it('refuses the EICAR string in the body and in a base64 attachment', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const inBody = await sendMail({ text: `test file follows\n${EICAR}\n` });
    expect(inBody.code).toBe(554);
    expect(inBody.text).toMatch(/^5\.7\.1 message refused: virus test signature \(EICAR\)/);
    const inAttachment = await sendMail({ attachments: [{ filename: 'eicar.com.txt', content: Buffer.from(EICAR), contentTransferEncoding: 'base64' }] }, addr(80, 1));
    expect(inAttachment.code).toBe(554);
    expect(inAttachment.text).toMatch(/EICAR/);
    expect(mocks[0].received).toHaveLength(0);
    expect(await refusals(proxy, 'eicar', { stage: 'data', code: '554' })).toBe(2);
  });

  it('finds the EICAR string split across TCP writes', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const { c } = await greeted(proxy.address.port, addr(84, 0));
    const body = Buffer.from(message('split-eicar') + `before ${EICAR} after\r\n.\r\n`, 'latin1');
    const at = body.indexOf('X5O!');
    for (const cut of [at + 1, at + 20, at + 34, at + 67]) {
      expect((await openData(c, 'a@sender.test', ['b@example.test'])).at(-1)?.code).toBe(354);
      c.write(body.subarray(0, cut));
      await new Promise((r) => setTimeout(r, 10));
      c.write(body.subarray(cut));
      const r = await c.read(5000);
      expect(r?.code, `cut at ${cut - at}`).toBe(554);
      expect(r?.text).toMatch(/EICAR/);
    }
    c.close();
    expect(mocks[0].received).toHaveLength(0);
  });

  it('lets a harmless attachment through', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const r = await sendMail({ headers: { 'X-Attitude-Id': 'pdf' }, attachments: [{ filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4 fake') }] });
    expect(r.code).toBe(250);
    expect(mocks[0].received.map((m) => m.id)).toEqual(['pdf']);
  });
});

describe('archive filter', () => {
  it('refuses an .exe inside a .zip attachment, naming both', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const archive = zip({ 'scan/invoice.pdf.exe': 'MZ\x90\x00fake executable', 'readme.txt': 'open the invoice' });
    const r = await sendMail({ headers: { 'X-Attitude-Id': 'zip1' }, attachments: [{ filename: 'invoice.zip', content: archive }] });
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/^5\.7\.1 message refused: blocked attachment type.*invoice\.zip > scan\/invoice\.pdf\.exe.*\(\.exe\)/);
    expect(mocks[0].received).toHaveLength(0);
    expect(await refusals(proxy, 'worm-attachment', { stage: 'data', code: '554' })).toBe(1);
  });

  it('passes a harmless zip whole, and one the config does not look into', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const archive = zip({ 'report.pdf': '%PDF-1.4 fake', 'figures.csv': '1,2,3' });
    expect((await sendMail({ headers: { 'X-Attitude-Id': 'zip-ok' }, attachments: [{ filename: 'report.zip', content: archive }] })).code).toBe(250);
    const raw = mocks[0].received[0].raw.toString('latin1');
    expect(raw).toContain(archive.toString('base64').slice(0, 76));
    await closeAll(proxy);
    proxy = await proxyFor(mocks, { filters: { archives: { enabled: false } } });
    const bad = zip({ 'setup.exe': 'MZ' });
    expect((await sendMail({ headers: { 'X-Attitude-Id': 'zip-off' }, attachments: [{ filename: 'setup.zip', content: bad }] })).code).toBe(250);
  });

  it('refuses an archive it cannot read within the bounds, or tags it for the backend', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const deep = zip({ 'b.zip': zip({ 'c.zip': zip({ 'x.txt': 'x' }) }) });
    const r = await sendMail({ attachments: [{ filename: 'deep.zip', content: deep }] });
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/^5\.7\.1 message refused: archive attachment cannot be checked \(deep\.zip > b\.zip > c\.zip: an archive nested deeper than maxDepth 2\)/);
    expect(await refusals(proxy, 'archive-unreadable', { stage: 'data', code: '554' })).toBe(1);
    await closeAll(proxy);
    proxy = await proxyFor(mocks, { filters: { archives: { unreadable: 'tag' } } });
    expect((await sendMail({ headers: { 'X-Attitude-Id': 'zip-tag' }, attachments: [{ filename: 'deep.zip', content: deep }] })).code).toBe(250);
    const raw = mocks[0].received.find((m) => m.id === 'zip-tag')!.raw.toString('latin1');
    expect(raw).toMatch(/^X-Attitude-Archive: unreadable: deep\.zip > b\.zip > c\.zip: an archive nested deeper than maxDepth 2\r$/m);
  });
});

describe('spam filter', () => {
  it('refuses a message at rejectScore with configured rules, naming the rules that hit', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, {
      filters: {
        spam: {
          rejectScore: 3,
          rules: [
            { name: 'URGENT_SUBJECT', header: '^Subject:.*\\burgent\\b', score: 2 },
            { name: 'LOTTERY', body: 'lottery', score: 2 },
            { name: 'NO_DATE', test: 'missing-date', score: 0.5 },
          ],
        },
      },
    });
    const r = await sendMail({ subject: 'Urgent: your reward', text: 'You won the lottery.\n' });
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/^5\.7\.1 message refused as spam \(score 4 >= 3: .*URGENT_SUBJECT=2/);
    expect(r.text).toMatch(/LOTTERY=2/);
    expect(mocks[0].received).toHaveLength(0);
    expect(await refusals(proxy, 'spam', { stage: 'data', code: '554' })).toBe(1);
    // one rule alone stays under the score and is passed on with its score
    const ok = await sendMail({ subject: 'Urgent: meeting moved', text: 'See you at 3.\n', headers: { 'X-Attitude-Id': 'one-rule' } });
    expect(ok.code).toBe(250);
    const raw = mocks[0].received[0].raw.toString('latin1');
    expect(raw).toMatch(/^X-Spam-Score: 2\r$/m);
    expect(raw).toMatch(/^X-Spam-Rules: URGENT_SUBJECT=2\r$/m);
  });

  it('refuses with the default rules: spam phrases in subject and body', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const r = await sendRaw(
      'From: a@sender.test\r\nTo: b@example.test\r\nSubject: CLAIM YOUR PRIZE NOW\r\n\r\nYou have won! Act now, this is a limited time offer.\r\n',
    );
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/^5\.7\.1 message refused as spam \(score [\d.]+ >= 5: /);
    expect(r.text).toMatch(/BODY_SPAM_PHRASE/);
    expect(mocks[0].received).toHaveLength(0);
  });

  it('refuses GTUBE, the spam test string, sent by a real mail client', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const gtube = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
    const r = await sendMail({ subject: 'filter check', text: `This is the GTUBE.\n\n${gtube}\n` });
    expect(r.code).toBe(554);
    expect(r.text).toMatch(/^5\.7\.1 message refused as spam \(score 1000 >= 5: GTUBE=1000/);
    expect(mocks[0].received).toHaveLength(0);
    expect(await refusals(proxy, 'spam', { stage: 'data', code: '554' })).toBe(1);
  });

  it('passes a clean message with an X-Spam-Score header in front', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const r = await sendMail({ subject: 'Lunch on Friday?', text: 'Shall we meet at noon?\n', headers: { 'X-Attitude-Id': 'clean' } });
    expect(r.code).toBe(250);
    const got = mocks[0].received;
    expect(got.map((m) => m.id)).toEqual(['clean']);
    const raw = got[0].raw.toString('latin1');
    const headerBlock = raw.slice(0, raw.indexOf('\r\n\r\n'));
    expect(headerBlock).toMatch(/^X-Spam-Score: 0$/m);
    // the proxy's lines come before the message's own
    expect(raw.indexOf('X-Spam-Score:')).toBeLessThan(raw.indexOf('From: a@sender.test'));
  });

  it('passes a message over the 256 KB hold-back without X-Spam-Score (the bound on held memory)', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const { c } = await greeted(proxy.address.port, addr(82, 0));
    expect((await openData(c, 'a@sender.test', ['b@example.test'])).at(-1)?.code).toBe(354);
    c.write(Buffer.concat([bigMessage('huge', 300 * 1024), Buffer.from('.\r\n')]));
    expect((await c.read(10_000))?.code).toBe(250);
    c.close();
    const raw = mocks[0].received[0].raw.toString('latin1');
    expect(raw).toMatch(/^Received: /);
    expect(raw).not.toContain('X-Spam-Score:');
  });
});

describe('filters and the session', () => {
  it('a refused message does not end the session: the next one goes through', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks);
    const c = await RawClient.connect(proxy.address.port, addr(83, 0));
    await c.read();
    const bad = await c.send('a@sender.test', ['b@example.test'], message('bad', '') + EICAR + '\r\n');
    expect(bad?.code).toBe(554);
    expect((await c.send('a@sender.test', ['b@example.test'], message('good')))?.code).toBe(250);
    expect(mocks[0].received.map((m) => m.id)).toEqual(['good']);
    c.close();
  });
});

describe('the hold-back budget (messages.holdBackTotal)', () => {
  it('streams a message on without its spam score once the heads held by all transactions reach the bound; nothing is lost, the budget comes back', async () => {
    mocks = await backends(1);
    proxy = await proxyFor(mocks, { messages: { holdBackTotal: '2KB' } });
    const body = (id: string) => message(id) + 'x'.repeat(1200) + '\r\n';
    // a holds 1.2 KB of its head while the filters read on
    const a = (await greeted(proxy.address.port, addr(81, 1))).c;
    expect((await openData(a, 'a@sender.test', ['b@example.test'])).at(-1)?.code).toBe(354);
    a.write(body('held-a'));
    expect(await until(() => proxy!.state().transactions.heldBackBytes > 1200)).toBe(true);
    // b does not fit beside it: sent on at once, with the headers known at the start only
    const b = (await greeted(proxy.address.port, addr(81, 2))).c;
    expect((await b.send('a@sender.test', ['b@example.test'], body('streamed-b')))?.code).toBe(250);
    expect((await a.cmd('.'))?.code).toBe(250);
    const raw = (id: string) => mocks[0].received.find((m) => m.id === id)!.raw.toString();
    expect(raw('held-a')).toMatch(/^X-Spam-Score: /m);
    expect(raw('streamed-b')).not.toMatch(/^X-Spam-Score: /m);
    expect(raw('streamed-b')).toContain('x'.repeat(1200));
    expect(proxy.state().transactions.heldBackBytes).toBe(0);
    expect(await proxy.metrics.metrics()).toMatch(/^attitude_hold_back_overflows_total 1$/m);
    a.close();
    b.close();
  });
});
