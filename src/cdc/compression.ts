/**
 * The `data` field's compression (docs/wire-format.md): zstd level 3 when it pays, raw otherwise,
 * and a bounded decompressor so a small hostile frame cannot exhaust memory.
 */
import { Compressor } from 'zstd-napi';
import binding from 'zstd-napi/binding.js';
import { CdcDecodeError } from './decode-error.js';
import { errorMessage } from '../errors.js';
import { DEFAULTS } from '../defaults.js';

export const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
export const ZSTD_LEVEL = 3;
/** Below this size the frame overhead outweighs any gain (and matches the Rust writer). */
export const COMPRESS_MIN_BYTES = 64;
export const DEFAULT_MAX_PAYLOAD_BYTES = DEFAULTS.maxPayloadBytes;

/**
 * Frames may not ask for a window larger than this many bits unless the payload limit
 * itself is larger: the window is memory the decoder allocates before producing output.
 * 2^23 covers every standard level up to 19.
 */
const MIN_WINDOW_LOG_MAX = 23;
const MAX_WINDOW_LOG = 31;
const OUT_CHUNK_BYTES = binding.dStreamOutSize();

let compressor: Compressor | undefined;
let dctx: binding.DCtx | undefined;

export function startsWithZstdMagic(data: Uint8Array): boolean {
  return data.length >= ZSTD_MAGIC.length && ZSTD_MAGIC.every((byte, i) => data[i] === byte);
}

/**
 * The `data` field for `content`. Content that starts with the zstd magic is always
 * framed, even when that is larger: readers decompress whatever starts with the magic,
 * so sending it raw would corrupt it.
 */
export function compressForWire(content: Buffer): Buffer {
  const mustFrame = startsWithZstdMagic(content);
  if (!mustFrame && content.length < COMPRESS_MIN_BYTES) return content;
  if (compressor === undefined) {
    compressor = new Compressor();
    compressor.setParameters({ compressionLevel: ZSTD_LEVEL });
  }
  const framed = compressor.compress(content);
  return mustFrame || framed.length < content.length ? framed : content;
}

/** ZSTD_COMPRESSBOUND: the largest frame zstd makes of `bytes` bytes of content. */
export function zstdCompressBound(bytes: number): number {
  const small = 128 * 1024;
  return bytes + Math.floor(bytes / 256) + (bytes < small ? Math.floor((small - bytes) / 2048) : 0);
}

/** Smallest window log that admits a window of `maxBytes`, but never below the standard levels' windows. */
function windowLogMaxFor(maxBytes: number): number {
  let log = MIN_WINDOW_LOG_MAX;
  while (log < MAX_WINDOW_LOG && 2 ** log < maxBytes) log += 1;
  return log;
}

/**
 * Decompresses the zstd frame(s) in `data`, refusing as soon as the output would exceed
 * `maxBytes`: output is produced chunk by chunk into buffers sized by what is still
 * allowed, so a bomb costs at most `maxBytes` plus one chunk (and the bounded window).
 * Throws CdcDecodeError 'too_large' or 'bad_zstd' (entry id '' — the codec re-labels it).
 */
export function decompressBounded(data: Uint8Array, maxBytes: number): Buffer {
  let declared: number | null;
  try {
    declared = binding.getFrameContentSize(data);
  } catch (cause) {
    throw new CdcDecodeError('bad_zstd', '', `zstd frame header: ${errorMessage(cause)}`, { cause });
  }
  // Fast rejection: the header already says the content is too big.
  if (declared !== null && declared > maxBytes) {
    throw new CdcDecodeError('too_large', '', `zstd frame declares ${declared} bytes; the limit is ${maxBytes}`);
  }

  dctx ??= new binding.DCtx();
  // Fast path: the frame declares its size (our writer's and the Rust writer's always do) and it
  // is within the limit. One-shot decompression straight into a buffer of exactly that size
  // cannot write past it (zstd fails with "destination too small" instead) and allocates no
  // window, so it keeps the bound; it saves the chunking and the final copy. Anything unusual
  // (several frames, a size that does not match, corruption) goes the streaming way below,
  // which decides precisely between too_large and bad_zstd.
  if (declared !== null) {
    const out = Buffer.allocUnsafe(declared);
    try {
      if (dctx.decompress(out, data) === declared) return out;
    } catch {
      // fall through to the streaming decoder
    }
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    // A previous call may have thrown mid-frame: start from a clean session each time.
    dctx.reset(binding.ResetDirective.sessionOnly);
    dctx.setParameter(binding.DParameter.windowLogMax, windowLogMaxFor(maxBytes));
    let input = data;
    for (;;) {
      const allowed = maxBytes + 1 - total; // one byte past the limit is enough to know it is exceeded
      const hint = declared !== null && chunks.length === 0 ? declared + 1 : OUT_CHUNK_BYTES;
      const out = Buffer.allocUnsafe(Math.max(1, Math.min(hint, OUT_CHUNK_BYTES, allowed)));
      const [remaining, produced, consumed] = dctx.decompressStream(out, input);
      input = input.subarray(consumed);
      if (produced > 0) {
        chunks.push(out.subarray(0, produced));
        total += produced;
        if (total > maxBytes) {
          throw new CdcDecodeError('too_large', '', `zstd content exceeds the limit of ${maxBytes} bytes`);
        }
      }
      if (remaining === 0 && input.length === 0) break;
      if (produced === 0 && consumed === 0) {
        throw new CdcDecodeError('bad_zstd', '', 'zstd frame is truncated');
      }
    }
  } catch (cause) {
    if (cause instanceof CdcDecodeError) throw cause;
    const message = errorMessage(cause);
    // The frame wants a window beyond what the payload limit allows.
    const reason = /too much memory/i.test(message) ? 'too_large' : 'bad_zstd';
    throw new CdcDecodeError(reason, '', `zstd: ${message}`, { cause });
  }
  // One copy into an exact-size buffer, so no oversized chunk stays referenced.
  return Buffer.concat(chunks, total);
}

