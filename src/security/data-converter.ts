import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './codec';
import { parseKeyRing } from './sealing';

/**
 * The data converter every worker, client and CLI of a deployment must share: payload encryption when
 * `VAO_ENCRYPTION_KEYS` is set, Temporal's default otherwise.
 */
export function dataConverterFor(encryptionKeys: string | undefined): DataConverter | undefined {
  if (!encryptionKeys) return undefined;
  return { payloadCodecs: [new AesGcmPayloadCodec(parseKeyRing(encryptionKeys))] };
}
