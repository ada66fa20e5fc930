// TLS for tests: throwaway self-signed certificates (openssl, removed after the file's
// tests) and STARTTLS on a RawClient, as a sending MTA does it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll } from 'vitest';
import { RawClient } from './raw-smtp.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A key and certificate for `cn`, as file paths for the proxy config. */
export function selfSigned(cn = 'mx.attitude.test'): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'attitude-tls-'));
  dirs.push(dir);
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
  return { key, cert };
}

/** STARTTLS on a greeted client (after EHLO): the TLS client, or the refusal. */
export async function startTls(c: RawClient): Promise<{ tls: RawClient; peerCn: string }> {
  const r = await c.cmd('STARTTLS');
  if (r?.code !== 220) throw new Error(`STARTTLS refused: ${r?.code} ${r?.text}`);
  c.detach();
  const socket = tls.connect({ socket: c.socket, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  const peer = socket.getPeerCertificate();
  return { tls: RawClient.over(socket), peerCn: String(peer.subject?.CN ?? '') };
}
