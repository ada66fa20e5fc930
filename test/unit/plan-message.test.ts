import { describe, expect, it } from 'vitest';
import { buildMessage } from '../../simulator/message.ts';
import type { PlannedMessage } from '../../simulator/plan.ts';
import { smugglingPayload } from '../../simulator/actors/smuggler.ts';
import { trickAddresses } from '../../simulator/actors/relay-prober.ts';
import { RELAY_TRICKS } from '../../simulator/scenario/schema.ts';
import { findLenientEnd, parseSmuggled } from '../../simulator/lenient-data.ts';

const msg = (over: Partial<PlannedMessage> = {}): PlannedMessage => ({ t: 0, client: 0, id: 'office-7', from: 'office1@office.sender.test', to: ['a1@example.test', 'b2@example.test'], size: 20_000, attachments: [], ...over });
const text = (m: ReturnType<typeof buildMessage>) => [...m.chunks()].join('');

describe('simulated messages', () => {
  it('fills the planned size with CRLF lines and carries the id header', () => {
    const m = buildMessage(msg(), 'legit', new Date(0));
    const t = text(m);
    expect(t.length).toBe(m.size);
    expect(Math.abs(m.size - 20_000)).toBeLessThan(80);
    expect(t).toMatch(/\r\nX-Attitude-Id: office-7\r\n/);
    expect(t).toMatch(/^From: <office1@office\.sender\.test>\r\n/);
    expect(t).toMatch(/\r\nDate: /);
    expect(t.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(t.split('\r\n').some((l) => l.startsWith('.'))).toBe(false);
    expect(text(buildMessage(msg(), 'legit', new Date(0)))).toBe(t);
  });

  it('streams a large message in bounded chunks', () => {
    const m = buildMessage(msg({ size: 3 * 1024 * 1024 }), 'legit');
    const chunks = [...m.chunks()];
    expect(chunks.length).toBeGreaterThan(40);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(70 * 1024);
  });

  it('attaches a worm executable behind a double extension, base64 in multipart/mixed', () => {
    const t = text(buildMessage(msg({ attachments: [{ name: 'invoice.pdf.exe', size: 3000 }] }), 'worm'));
    expect(t).toMatch(/Content-Type: multipart\/mixed; boundary="=_attitude_office7"/);
    expect(t).toMatch(/Content-Disposition: attachment; filename="invoice\.pdf\.exe"/);
    const b64 = /filename="invoice\.pdf\.exe"\r\n\r\n([A-Za-z0-9+/=\r\n]+)\r\n--/.exec(t)![1].replace(/\r\n/g, '');
    expect(Buffer.from(b64, 'base64').subarray(0, 2).toString('latin1')).toBe('MZ');
  });

  it('makes spam look like spam: no Date, no Message-ID, links', () => {
    const t = text(buildMessage(msg(), 'spam'));
    expect(t).not.toMatch(/\r\nDate: /);
    expect(t).not.toMatch(/Message-ID/);
    expect((t.match(/http:\/\//g) ?? []).length).toBeGreaterThan(5);
  });
});

describe('attack payloads', () => {
  it('dresses every nmap relay trick up for the served and the outside domain', () => {
    const all = RELAY_TRICKS.map((t) => trickAddresses(t, 'example.test', 'outside.test', '127.0.0.1'));
    expect(all).toHaveLength(16);
    expect(new Set(all.map((a) => `${a.mailFrom}>${a.rcptTo}`)).size).toBe(16);
    expect(trickAddresses('percent-hack', 'example.test', 'outside.test', '127.0.0.1').rcptTo).toBe('relaytest%outside.test@example.test');
    expect(trickAddresses('source-route', 'example.test', 'outside.test', '127.0.0.1').rcptTo).toBe('@example.test:relaytest@outside.test');
    expect(trickAddresses('bang-path-ip', 'example.test', 'outside.test', '127.0.0.1').rcptTo).toBe('outside.test!relaytest@[127.0.0.1]');
    expect(trickAddresses('null-sender', 'example.test', 'outside.test', '127.0.0.1').mailFrom).toBe('');
  });

  it('finds the smuggled message behind each fake end, as an unpatched receiver would', () => {
    for (const variant of ['lf-dot-lf', 'lf-dot-crlf', 'cr-dot-crlf', 'crlf-dot-cr', 'cr-dot-cr', 'cr-dot-lf', 'lf-dot-cr', 'crlf-nul-dot-crlf', 'crlf-dot-nul-crlf'] as const) {
      const raw = Buffer.from(smugglingPayload({ variant, id: 's1', smuggledId: 's1-smuggled' }, 'example.test'), 'latin1');
      const end = findLenientEnd(raw);
      expect(end, variant).not.toBeNull();
      const second = parseSmuggled(raw.subarray(end!.after), /^X-Attitude-Id:\s*(\S+)/im);
      expect(second, variant).toMatchObject({ id: 's1-smuggled', from: 'ceo@example.test', to: ['victim@example.test'] });
    }
  });

  it('never sees a fake end in what a CRLF-normalizing, dot-escaping relay delivers', () => {
    // after the receiver undoes dot-stuffing, an escaped "." line is a plain CRLF "." CRLF inside the data
    const normalized = Buffer.from('Subject: x\r\n\r\nhello\r\n.\r\nMAIL FROM:<ceo@example.test>\r\nRCPT TO:<v@example.test>\r\nDATA\r\nX-Attitude-Id: s\r\n\r\nhi\r\n', 'latin1');
    expect(findLenientEnd(normalized)).toBeNull();
  });
});
