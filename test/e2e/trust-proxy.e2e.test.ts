/**
 * DROVER_TRUST_PROXY on a real `drover controller` process: a bad value stops it at start naming
 * the variable, and with `loopback` trusted (the test plays an nginx on the same machine) the
 * controller's default throttle (10 failures a minute) blocks the client X-Forwarded-For names,
 * not every client behind the proxy.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@drover/testing';
import { useDrover } from './harness.js';

const drover = useDrover();

/** The controller's default: failures allowed per minute before an address is blocked. */
const DEFAULT_FAILURES = 10;

/** GET /jobs from loopback with this bearer token and X-Forwarded-For; the status. */
function get(url: string, bearer: string, forwardedFor: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: '/jobs?limit=1', headers: { authorization: `Bearer ${bearer}`, 'x-forwarded-for': forwardedFor } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('DROVER_TRUST_PROXY', () => {
  it('refuses a bad list at start, naming the variable and the entry', async () => {
    const out = await drover.processes.run(['controller'], drover.env({ DROVER_TRUST_PROXY: 'loopback,proxy.internal' }));
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^drover: DROVER_TRUST_PROXY: "proxy\.internal" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal/);
  });

  it('with loopback trusted, blocks the forwarded client that failed too often and no other', async () => {
    const { token } = await drover.ns.store.clients.add({ who: 'e2e-proxied', call: ['e2e.*'] });
    const controller = drover.processes.start(['controller'], drover.env({ LOG_LEVEL: 'info', DROVER_TRUST_PROXY: 'loopback' }));
    const url = await waitFor(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(controller.output())?.[1], { what: 'the controller API', timeoutMs: 30_000, intervalMs: 100 });
    for (let i = 0; i < DEFAULT_FAILURES; i++) expect(await get(url, 'e2e-proxied:wrong-guess', '203.0.113.5')).toBe(401);
    // One failure more blocks it; from then on even the right token is not checked.
    expect(await get(url, 'e2e-proxied:wrong-guess', '203.0.113.5')).toBe(429);
    expect(await get(url, token, '203.0.113.5')).toBe(429);
    expect(await get(url, 'e2e-proxied:wrong-guess', '203.0.113.6')).toBe(401);
    expect(await get(url, token, '203.0.113.6')).toBe(200);
    controller.kill('SIGTERM');
    expect(await controller.exited).toBe(0);
  });
});
