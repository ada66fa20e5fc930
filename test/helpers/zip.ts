// ZIP archives for the archive filter tests: real ones from fflate, and hand-altered
// ones (a local header that names another file than the directory, a hidden entry, a
// size that lies) at the byte offsets of the ZIP format (APPNOTE.TXT 4.3).
import { strToU8, zipSync, type Zippable } from 'fflate';

const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const END = 0x06054b50;

export function zip(files: Record<string, string | Uint8Array | Zippable>): Buffer {
  const z: Zippable = {};
  for (const [name, v] of Object.entries(files)) z[name] = typeof v === 'string' ? strToU8(v) : v;
  // a fixed time: the same files give the same bytes
  return Buffer.from(zipSync(z, { level: 6, mtime: new Date('2024-01-01T00:00:00Z') }));
}

/** Offsets of every record with the signature, in order. */
function records(b: Buffer, signature: number): number[] {
  const sig = Buffer.alloc(4);
  sig.writeUInt32LE(signature);
  const out: number[] = [];
  for (let o = b.indexOf(sig); o >= 0; o = b.indexOf(sig, o + 4)) out.push(o);
  return out;
}

function named(b: Buffer, signature: number, name: string): number {
  const [nameLength, nameAt] = signature === CENTRAL ? [28, 46] : [26, 30];
  const at = records(b, signature).find((o) => b.toString('latin1', o + nameAt, o + nameAt + b.readUInt16LE(o + nameLength)) === name);
  if (at === undefined) throw new Error(`no ${name}`);
  return at;
}

/** The local header of `from` renamed to `to` (same length); the directory still says `from`. */
export function renameLocal(b: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('same length only');
  const out = Buffer.from(b);
  out.write(to, named(out, LOCAL, from) + 30, 'latin1');
  return out;
}

/** The directory's uncompressed size of `name` set to `size`. */
export function claimSize(b: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(b);
  out.writeUInt32LE(size, named(out, CENTRAL, name) + 24);
  return out;
}

/** The compressed bytes of `name` replaced with garbage of the same length (as an encrypted entry reads). */
export function garble(b: Buffer, name: string): Buffer {
  const out = Buffer.from(b);
  const at = named(out, LOCAL, name);
  const start = at + 30 + out.readUInt16LE(at + 26) + out.readUInt16LE(at + 28);
  for (let i = 0; i < out.readUInt32LE(at + 18); i++) out[start + i] = (i * 89 + 7) & 0xff;
  return out;
}

/**
 * `hidden`'s local files in front of `shown`: a streaming reader finds them, the
 * directory (only `shown`'s, its offsets moved along) does not list them.
 */
export function hideInFront(hidden: Buffer, shown: Buffer): Buffer {
  const prefix = hidden.subarray(0, records(hidden, CENTRAL)[0]);
  const out = Buffer.concat([prefix, shown]);
  for (const o of records(out, CENTRAL).filter((o) => o >= prefix.length)) out.writeUInt32LE(out.readUInt32LE(o + 42) + prefix.length, o + 42);
  const end = records(out, END).at(-1)!;
  out.writeUInt32LE(out.readUInt32LE(end + 16) + prefix.length, end + 16);
  return out;
}
