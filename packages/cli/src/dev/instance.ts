/**
 * An embedded instance's footprint in its data folder: a lock (one process per PGlite data folder;
 * two would corrupt it), instance.json, which tells the other `drover` commands where its API
 * listens, since they cannot open the database themselves, and `token`, the local admin client's
 * token they authenticate with (readable by the folder's owner only).
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * The data folder holds a whole database: only its owner may read it. Folders 0700, files 0600
 * at most (an owner's execute bit is kept). PGlite creates most of its files world-writable.
 */
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
const OTHERS_BITS = 0o077;

/**
 * Removes group and other permissions from the data folder and everything in it (left by an
 * older version, or by PGlite before the process's umask was set). Symbolic links are not
 * followed: what they point at is not the folder's to change.
 */
export function tightenDataDir(dir: string): void {
  const stack = [resolve(dir)];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if ((stat.mode & OTHERS_BITS) !== 0) chmodSync(path, stat.mode & 0o7777 & ~OTHERS_BITS);
    if (stat.isDirectory()) for (const name of readdirSync(path)) stack.push(join(path, name));
  }
}

/**
 * Takes the data folder for this process, or says who holds it. A lock left by a dead process is
 * taken over. The folder is created private (0700), and an existing one is made private.
 */
export function lockDataDir(dataDir: string): () => void {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  tightenDataDir(dir);
  const lock = join(dir, 'lock');
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: PRIVATE_FILE_MODE });
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
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
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

/** The local admin client's token, beside instance.json. */
const TOKEN_FILE = 'token';

/** The token `drover dev` keeps for the other commands, or null when there is none. */
export function readLocalToken(dataDir: string): string | null {
  try {
    const token = readFileSync(join(resolve(dataDir), TOKEN_FILE), 'utf8').trim();
    return token === '' ? null : token;
  } catch {
    return null;
  }
}

/**
 * Keeps the local admin client's token for the other commands: owner-only (0600) from its first
 * byte, written whole (a temporary file renamed over the old one), in a folder made private.
 */
export function writeLocalToken(dataDir: string, token: string): void {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const file = join(dir, TOKEN_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${token}\n`, { mode: PRIVATE_FILE_MODE, flag: 'w' });
  // A file left by an older run with a wider mode would keep it through writeFileSync: set it.
  chmodSync(temporary, PRIVATE_FILE_MODE);
  renameSync(temporary, file);
}
