/**
 * A closed broker keeps nothing alive: no reconnect timer, no wait for a connection, no socket.
 * Each case runs a child process that uses a broker, closes it and must then exit by itself.
 */
import { deleteBrokerNamespace } from '../src/index.js';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { testNamespaceName } from '@drover/testing';

const FIXTURE = fileURLToPath(new URL('./fixtures/use-and-close.ts', import.meta.url));
/** Starting tsx and connecting take a few seconds on a busy machine; a leaked timer here runs a minute. */
const EXIT_DEADLINE_MS = 20_000;

/** Runs the fixture; resolves with its exit code and output, or 'alive' if it has not exited by the deadline (then kills it). */
function runFixture(url: string, namespace: string, mode: string): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=drover-source', '--import', 'tsx', FIXTURE, url, namespace, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'alive', output });
    }, EXIT_DEADLINE_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', output });
    });
  });
}

/** A local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('broker lifecycle', () => {
  it('lets a process exit by itself after it consumed, published and closed', async () => {
    const namespace = testNamespaceName();
    try {
      const { code, output } = await runFixture(inject('droverServices').amqpUrl, namespace, 'used');
      expect({ code, output: output.trim() }).toEqual({ code: 0, output: 'closed' });
    } finally {
      await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: namespace, funcnames: ['life.f'] });
    }
  });

  it('lets a process exit by itself after closing while it was still reconnecting, failing the publish that waited', async () => {
    const { code, output } = await runFixture(`amqp://guest:guest@127.0.0.1:${await closedPort()}`, testNamespaceName(), 'unreachable');
    expect(code).toBe(0);
    expect(output).toContain('pending publish: amqp broker: closed');
    expect(output).toContain('closed');
  });
});
