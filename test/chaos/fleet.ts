/**
 * The chaos run's processes: real `drover` commands run from source, each with its output in a
 * log file, started, killed with -9 and started again. Every process is killed when the run ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'packages/cli/src/bin.ts');

/** One process of the fleet. */
export interface FleetProcess {
  readonly role: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | string>;
}

/** Starts and tracks the fleet's processes. */
export class Fleet {
  readonly #logDir: string;
  readonly #env: Record<string, string>;
  readonly #all = new Set<FleetProcess>();
  #count = 0;

  constructor(logDir: string, env: Record<string, string>) {
    this.#logDir = logDir;
    this.#env = env;
  }

  /** Starts `drover <args>` as `role`, with `env` over the fleet's. */
  start(role: string, args: string[], env: Record<string, string> = {}): FleetProcess {
    const log = createWriteStream(join(this.#logDir, `${++this.#count}-${role}.log`));
    const child = spawn(process.execPath, ['--conditions=drover-source', '--import', 'tsx', BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...this.#env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    const proc: FleetProcess = { role, child, pid: child.pid ?? -1, exited };
    this.#all.add(proc);
    child.once('exit', () => this.#all.delete(proc));
    return proc;
  }

  /** Runs `drover <args>` to its end; resolves with its exit code and output. */
  async run(args: string[]): Promise<{ code: number | string; output: string }> {
    const child = spawn(process.execPath, ['--conditions=drover-source', '--import', 'tsx', BIN, ...args], { cwd: ROOT, env: { ...process.env, ...this.#env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | string>((resolve) => child.once('exit', (c, s) => resolve(c ?? s ?? 'unknown')));
    return { code, output };
  }

  /** Processes alive now. */
  alive(): FleetProcess[] {
    return [...this.#all];
  }

  /** kill -9, resolved once the process is gone. */
  async kill9(proc: FleetProcess): Promise<void> {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
  }

  /** SIGTERM to every process (graceful), then SIGKILL to any still alive after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    const all = this.alive();
    for (const p of all) p.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const p of all) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }, graceMs);
    await Promise.all(all.map((p) => p.exited));
    clearTimeout(timer);
  }

  /** SIGKILL to every process at once: for an interrupted run. */
  killAll(): void {
    for (const p of this.alive()) p.child.kill('SIGKILL');
  }
}
