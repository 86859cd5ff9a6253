export { encodeCdcEntry, decodeCdcEntry, type DecodeOptions } from './codec.js';
export {
  compressForWire,
  decompressBounded,
  startsWithZstdMagic,
  ZSTD_MAGIC,
  ZSTD_LEVEL,
  COMPRESS_MIN_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
} from './compression.js';
export { sha256Hex, isSha256Hex } from '../model/content-hash.js';
export { CdcDecodeError, CDC_REJECT_REASONS, type CdcRejectReason } from './decode-error.js';
export { formatPutMeta, formatDelMeta, parsePutMeta, parseDelMeta, type PutMeta, type DelMeta } from './meta.js';
export {
  parseStreamId,
  isStreamId,
  formatStreamId,
  compareStreamIds,
  successorStreamId,
  streamIdMs,
  streamIdLagMs,
  STREAM_START,
  StreamIdError,
  type StreamId,
} from './stream-id.js';
