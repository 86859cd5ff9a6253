// zstd frames for decompression-bomb tests: a streamed frame of zeros is tiny on the wire and huge inside.
import binding from 'zstd-napi/binding.js';

/** A zstd frame of `total` zero bytes, built by streaming 1 MiB at a time (never holding the whole content). */
export function streamedZeroFrame(total: number, opts: { pledge?: boolean; windowLog?: number } = {}): Buffer {
  const cctx = new binding.CCtx();
  cctx.setParameter(binding.CParameter.compressionLevel, 1);
  if (opts.windowLog !== undefined) cctx.setParameter(binding.CParameter.windowLog, opts.windowLog);
  if (opts.pledge) cctx.setPledgedSrcSize(total);
  const zeros = Buffer.alloc(1 << 20);
  const out = Buffer.alloc(binding.cStreamOutSize());
  const parts: Buffer[] = [];
  let fed = 0;
  while (fed < total) {
    let src = zeros.subarray(0, Math.min(zeros.length, total - fed));
    fed += src.length;
    const directive = fed === total ? binding.EndDirective.end : binding.EndDirective.continue;
    for (;;) {
      const [remaining, produced, consumed] = cctx.compressStream2(out, src, directive);
      if (produced > 0) parts.push(Buffer.from(out.subarray(0, produced)));
      src = src.subarray(consumed);
      if (directive === binding.EndDirective.end ? remaining === 0 : src.length === 0) break;
    }
  }
  return Buffer.concat(parts);
}
