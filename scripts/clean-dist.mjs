// Removes dist/ before a package build, so a tarball never carries files of sources since deleted.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
