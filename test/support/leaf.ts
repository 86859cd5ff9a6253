// A change's leaf exactly as the store keeps it (digest bytes, then the text), built from the parts
// the engine sends (src/store/leaf.ts leafParts, written by commands/apply-args.ts).
import type { Change } from '../../src/model/change.js';
import { leafParts } from '../../src/store/leaf.js';

export function storedLeaf(c: Change): Buffer {
  const { digestHex, text } = leafParts(c);
  return Buffer.concat([Buffer.from(digestHex, 'hex'), Buffer.from(text, 'latin1')]);
}
