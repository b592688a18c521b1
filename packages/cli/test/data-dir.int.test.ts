import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../src/dev/instance.js';

const root = mkdtempSync(join(tmpdir(), 'drover-datadir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('the embedded data folder', () => {
  it('is created private (0700), whatever the umask', () => {
    const old = process.umask(0o022);
    try {
      const dir = join(root, 'fresh', '.drover');
      const unlock = lockDataDir(dir);
      expect(mode(dir)).toBe(0o700);
      expect(mode(join(dir, 'lock')) & 0o077).toBe(0);
      unlock();
    } finally {
      process.umask(old);
    }
  });

  it('is made private on start, with everything inside it: no group or other bits left', () => {
    const dir = join(root, 'old');
    mkdirSync(join(dir, 'pgdata', 'base'), { recursive: true });
    writeFileSync(join(dir, 'pgdata', 'base', 'file'), 'x');
    writeFileSync(join(dir, 'instance.json'), '{}');
    for (const p of [dir, join(dir, 'pgdata'), join(dir, 'pgdata', 'base')]) chmodSync(p, 0o777);
    chmodSync(join(dir, 'pgdata', 'base', 'file'), 0o666);
    chmodSync(join(dir, 'instance.json'), 0o644);
    const unlock = lockDataDir(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'pgdata'))).toBe(0o700);
    expect(mode(join(dir, 'pgdata', 'base'))).toBe(0o700);
    expect(mode(join(dir, 'pgdata', 'base', 'file'))).toBe(0o600);
    expect(mode(join(dir, 'instance.json'))).toBe(0o600);
    unlock();
  });
});
