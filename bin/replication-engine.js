#!/usr/bin/env node
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
