#!/usr/bin/env node
// The `drover` command. A committed launcher rather than dist/bin.js itself: npm links a package's
// bin at install time, before any build, and skips a target that does not exist yet.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('drover: not built yet; run `npm run build` (or `npm start`, which builds it) in the repository\n');
  process.exit(1);
}
await import(built.href);
