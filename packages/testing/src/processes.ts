/**
 * Real processes for end-to-end tests: `drover` commands and helper programs (a remote worker, …)
 * run from source (tsx, with the drover-source export condition), each with its output in a log
 * file. Every process started here is killed when the test file ends, pass or fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'packages/cli/src/bin.ts');

export interface DroverProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** What the process wrote to stdout and stderr so far. */
  output(): string;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts and tracks `drover` processes for one test file. */
export function useDroverProcesses(): {
  start(args: string[], env?: Record<string, string>): DroverProcess;
  /** Starts a TypeScript program of the repository (a path from its root) the way `drover` runs: from source. */
  startScript(script: string, env?: Record<string, string>): DroverProcess;
  run(args: string[], env?: Record<string, string>): Promise<{ code: number | string; stdout: string; stderr: string }>;
  logDir: string;
} {
  const logDir = mkdtempSync(join(tmpdir(), 'drover-e2e-'));
  const started: DroverProcess[] = [];
  let count = 0;

  afterAll(async () => {
    for (const p of started) p.kill('SIGKILL');
    await Promise.all(started.map((p) => p.exited));
  });

  const sourceArgs = ['--conditions=drover-source', '--import', 'tsx'];
  const nodeArgs = (args: string[]): string[] => [...sourceArgs, BIN, ...args];

  const startNode = (argv: string[], name: string, env: Record<string, string>): DroverProcess => {
    const logFile = join(logDir, `${++count}-${name}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    const proc: DroverProcess = {
      child,
      logFile,
      exited,
      output: () => readFileSync(logFile, 'utf8'),
      kill: (signal = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
    started.push(proc);
    return proc;
  };

  return {
    logDir,
    start: (args, env = {}) => startNode(nodeArgs(args), args[0] ?? 'drover', env),
    startScript: (script, env = {}) => startNode([...sourceArgs, join(ROOT, script)], basename(script).replace(/\.[^.]*$/, ''), env),
    run(args, env = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, nodeArgs(args), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('error', reject);
        child.once('exit', (code, signal) => resolve({ code: code ?? signal ?? 'unknown', stdout, stderr }));
      });
    },
  };
}
