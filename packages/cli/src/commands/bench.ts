/**
 * `drover bench`: the benchmark lives in the repository (packages/bench), with the peer systems as
 * its own dependencies, so the CLI runs it as a process rather than importing it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DroverError } from '@drover/core';

/** From packages/cli/src or packages/cli/dist, the benchmark's entry point in the same checkout. */
const BENCH = fileURLToPath(new URL('../../../bench/src/bin.ts', import.meta.url));

export async function benchCommand(args: string[]): Promise<number> {
  if (!existsSync(BENCH)) throw new DroverError('the benchmark is part of the Drover repository: run `npm run bench` in a checkout');
  const child = spawn(process.execPath, ['--conditions=drover-source', '--import', 'tsx', BENCH, ...args], { stdio: 'inherit' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}
