import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { SealKey } from './sealing';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encrypts every payload (inputs, results, signals, memos…) with AES-256-GCM before it leaves the
 * process, so history holds no phone numbers, bodies or tokens in plain text. Several keys can be
 * configured at once: payloads are encrypted with the first (newest) and decrypted with whichever key
 * their `encryption-key-id` names, so keys rotate without breaking running workflows.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keys: SealKey[]) {
    if (keys.length === 0) throw new Error('the payload codec needs at least one key');
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0]!;
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { [METADATA_ENCODING_KEY]: encoder.encode(ENCODING), [KEY_ID]: encoder.encode(id) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || decoder.decode(encoding) !== ENCODING) return payload;
      const keyId = payload.metadata?.[KEY_ID] ? decoder.decode(payload.metadata[KEY_ID]) : '';
      const key = this.keys.find((k) => k.id === keyId);
      if (!key) throw new Error(`payload encrypted with unknown key "${keyId}": add it to VAO_ENCRYPTION_KEYS`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
