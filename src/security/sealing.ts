import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Field-level sealing (AES-256-GCM) for values that must pass through workflow history but never sit
 * there in plain text: session tokens and room tokens returned to the caller. A key ring allows
 * rotation: seal with the newest key, open with any. Format: `vao1.<keyId>.<iv>.<ciphertext>.<tag>`
 * (base64url parts).
 */
export interface SealKey {
  id: string;
  key: Buffer;
}

export class Sealer {
  constructor(private readonly keys: SealKey[]) {
    if (keys.length === 0) throw new Error('a Sealer needs at least one key');
    for (const k of keys) if (k.key.length !== 32) throw new Error(`key ${k.id} must be 32 bytes (AES-256)`);
  }

  seal(plain: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['vao1', id, iv.toString('base64url'), data.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const [version, id, iv, data, tag] = sealed.split('.');
    if (version !== 'vao1' || !id || !iv || data === undefined || !tag) throw new Error('not a sealed value');
    const key = this.keys.find((k) => k.id === id);
    if (!key) throw new Error(`sealed with unknown key "${id}"`);
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }

  sealOptional(value: string | null | undefined): string | null {
    return value === null || value === undefined ? null : this.seal(value);
  }

  openOptional(value: string | null | undefined): string | null {
    return value === null || value === undefined ? null : this.open(value);
  }
}

/** `id:base64key,id2:base64key` (newest first) → keys; throws naming the bad entry. */
export function parseKeyRing(spec: string): SealKey[] {
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      if (at <= 0) throw new Error(`encryption key entry "${entry.slice(0, 8)}…" must be id:base64key`);
      const id = entry.slice(0, at);
      const key = Buffer.from(entry.slice(at + 1), 'base64');
      if (key.length !== 32) throw new Error(`encryption key "${id}" must decode to 32 bytes, got ${key.length}`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`encryption key id "${id}" must be 1-32 of [A-Za-z0-9_-]`);
      return { id, key };
    });
}

/**
 * The configured key ring, or a local key kept in the data folder (created on first use, mode 0600)
 * so a single-host setup works out of the box; workers and clients on several hosts must share
 * `VAO_ENCRYPTION_KEYS`.
 */
export function loadSealer(keyRing: string | undefined, dataDir: string): { sealer: Sealer; source: 'configured' | 'local-file' } {
  if (keyRing) return { sealer: new Sealer(parseKeyRing(keyRing)), source: 'configured' };
  const file = path.resolve(dataDir, 'local-encryption.key');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `local:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { sealer: new Sealer(parseKeyRing(readFileSync(file, 'utf8').trim())), source: 'local-file' };
}
