/**
 * An embedded instance's footprint in its data folder: a lock (one process per PGlite data folder;
 * two would corrupt it) and instance.json, which tells the other `drover` commands where its API
 * listens, since they cannot open the database themselves.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DroverError } from '@drover/core';

export interface InstanceInfo {
  pid: number;
  url: string;
  namespace: string;
  dataDir: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data folder for this process, or says who holds it. A lock left by a dead process is taken over. */
export function lockDataDir(dataDir: string): () => void {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'lock');
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new DroverError(`${dir} is in use by another drover dev (pid ${holder}); stop it, or set DROVER_DATA_DIR to another folder`);
      }
      rmSync(lock, { force: true });
    }
  }
}

export function writeInstance(info: InstanceInfo): () => void {
  const file = join(resolve(info.dataDir), 'instance.json');
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`);
  return () => rmSync(file, { force: true });
}

/** The running instance for a data folder, or null when none is running there. */
export function readInstance(dataDir: string): InstanceInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(resolve(dataDir), 'instance.json'), 'utf8')) as InstanceInfo;
    return alive(info.pid) ? info : null;
  } catch {
    return null;
  }
}
