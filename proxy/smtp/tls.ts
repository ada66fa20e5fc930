// The certificate the proxy offers with STARTTLS. Read at start and again on every
// reload, so a renewed certificate applies to new sessions without a restart; a
// reload that cannot read or use the files keeps the certificate in use.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { ProxyConfig } from '../config/schema.ts';

export class Certificates {
  private context: tls.SecureContext | null = null;

  constructor(config: ProxyConfig) {
    this.context = Certificates.load(config);
  }

  /** Loads the files of `config` (throws with the reason when they cannot be used). */
  static load(config: ProxyConfig): tls.SecureContext | null {
    if (!config.tls) return null;
    return tls.createSecureContext({ key: readFileSync(config.tls.key), cert: readFileSync(config.tls.cert) });
  }

  /** Takes the certificate of a reloaded config; throws (and keeps the old one) when it cannot be read. */
  reload(config: ProxyConfig): void {
    this.context = Certificates.load(config);
  }

  get current(): tls.SecureContext | null {
    return this.context;
  }
}
