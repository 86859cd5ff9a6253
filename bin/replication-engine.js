#!/bin/sh
':' //; exec node --max-semi-space-size=8 "$0" "$@"
// Line 2 is for sh and does nothing in JavaScript (a string, then a comment). Run as a program
// (`replication-engine …`, `./bin/replication-engine.js …`), this file re-executes itself as node
// with the V8 flags the engine is measured with: a young generation of 2 × 8 MiB instead of
// Node's 2 × 16 keeps the engine's peak RSS about 30 MB lower for ~2% more CPU (BENCHMARKS.md,
// B5). Started as `node bin/replication-engine.js`, it runs without them: pass them to node.
// bench/engine-host.ts reads the flags from line 2, so the benchmarks run what users run.
// Thin launcher: the CLI lives in src/cli (compiled to dist/cli). Run `npm run build` first.
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  // Exit explicitly: a stopped daemon must not linger on a forgotten handle.
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
