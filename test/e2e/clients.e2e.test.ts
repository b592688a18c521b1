/**
 * `drover clients` against PostgreSQL (DATABASE_URL set: straight in the database, as an
 * operator does before any client can reach the API), and the API of a real `drover controller`
 * taking exactly the tokens those commands issued.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '@drover/testing';
import { connectTcpClient } from '../../services/controller/test/rpc-client.js';
import { useDrover } from './harness.js';

const drover = useDrover();

interface Issued {
  client: { who: string; call: string[]; work: string[]; admin: boolean; certificateCn: string | null };
  token: string;
}

async function clients(args: string[], extra: Record<string, string> = {}): ReturnType<typeof drover.processes.run> {
  return drover.processes.run(['clients', ...args], drover.env(extra));
}

describe('drover clients on PostgreSQL', () => {
  it('adds, lists, rotates and removes clients, printing a token only when one is made', async () => {
    const added = await clients(['add', 'e2e-reports', '--call', 'e2e.*', '--call', 'report.{daily,weekly}', '--work', 'e2e.double', '--cn', 'reports.example', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const issued = JSON.parse(added.stdout) as Issued;
    expect(issued).toMatchObject({ client: { who: 'e2e-reports', call: ['e2e.*', 'report.{daily,weekly}'], work: ['e2e.double'], admin: false, certificateCn: 'reports.example' }, token: expect.stringMatching(/^drv_e2e-reports_[0-9a-f]{64}$/) });
    expect(await drover.ns.store.clients.verifyToken('e2e-reports', issued.token)).not.toBeNull();

    const human = await clients(['add', 'e2e-chosen', '--token', 'jobcenter-secret', '--admin']);
    expect(human.stdout).toContain('client e2e-chosen added; its token (shown only this once):\njobcenter-secret\n');

    const listed = await clients(['list', '--json']);
    expect(listed.stdout).not.toMatch(/scrypt|token/i);
    expect((JSON.parse(listed.stdout) as { who: string }[]).map((c) => c.who)).toEqual(['e2e-chosen', 'e2e-reports']);
    expect((await clients(['list'])).stdout).toMatch(/e2e-reports\s+e2e\.\* report\.\{daily,weekly\}\s+e2e\.double\s+no\s+reports\.example/);

    const rotated = await clients(['rotate', 'e2e-reports', '--json']);
    const fresh = (JSON.parse(rotated.stdout) as Issued).token;
    expect(fresh).not.toBe(issued.token);
    expect(await drover.ns.store.clients.verifyToken('e2e-reports', issued.token)).toBeNull();
    expect(await drover.ns.store.clients.verifyToken('e2e-reports', fresh)).not.toBeNull();

    expect(await clients(['rm', 'e2e-chosen'])).toMatchObject({ code: 0, stdout: expect.stringContaining('removed') });
    expect(await clients(['rm', 'e2e-chosen'])).toMatchObject({ code: 1, stderr: 'no client e2e-chosen\n' });
    expect(await clients(['rotate', 'e2e-chosen'])).toMatchObject({ code: 1 });
  });

  it('refuses bad input naming the argument or option, and changes nothing', async () => {
    await clients(['add', 'e2e-taken']);
    const before = await drover.ns.store.clients.list();
    const cases: [string[], RegExp][] = [
      [['add', 'bad name'], /^drover: <name>: /],
      [['add', 'a:b'], /^drover: <name>: /],
      [['add', 'e2e-taken'], /^drover: <name>: a client named e2e-taken exists already/],
      [['add', 'e2e-new', '--call', 'ok.*', '--call', 'no/slash'], /^drover: --call\[1\]: /],
      [['add', 'e2e-new', '--work', '[unclosed'], /^drover: --work\[0\]: /],
      [['add', 'e2e-new', '--token', 'short'], /^drover: --token: /],
      [['add', 'e2e-new', '--cn', 'x'.repeat(65)], /^drover: --cn: /],
      [['rotate', 'e2e-taken', '--token', 'has a space'], /^drover: --token: /],
      [['rm', 'bad name'], /^drover: <name>: /],
    ];
    // Each case is refused on its own and leaves nothing behind for another, so they run side by
    // side: one `drover` process each, whose start-up dominates.
    const outs = await Promise.all(cases.map(([args]) => clients(args)));
    cases.forEach(([args, message], i) => {
      expect({ args, code: outs[i]!.code }).toEqual({ args, code: 2 });
      expect(outs[i]!.stderr).toMatch(message);
    });
    expect(await drover.ns.store.clients.list()).toEqual(before);
  });

  it('the controller takes the tokens these commands issue, over HTTP within their scopes and in a JSON-RPC hello, and no other', async () => {
    const issued = JSON.parse((await clients(['add', 'e2e-http', '--call', 'e2e.double', '--json'])).stdout) as Issued;
    const controller = drover.processes.start(['controller'], drover.env({ LOG_LEVEL: 'info' }));
    const url = await waitFor(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(controller.output())?.[1], { what: 'the controller API', timeoutMs: 30_000, intervalMs: 100 });
    const post = (token: string | null, funcname: string) =>
      fetch(`${url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ funcname, runAfter: '2040-01-01T00:00:00Z' }) });
    expect((await post(null, 'e2e.double')).status).toBe(401);
    expect((await post(issued.token, 'e2e.double')).status).toBe(201);
    expect((await post(issued.token, 'e2e.sleep')).status).toBe(403);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
    const fresh = (JSON.parse((await clients(['rotate', 'e2e-http', '--json'])).stdout) as Issued).token;
    expect((await post(issued.token, 'e2e.double')).status).toBe(401);
    expect((await post(fresh, 'e2e.double')).status).toBe(201);

    // The same clients say hello over JSON-RPC (JobCenter's protocol), on the port the controller logged.
    const rpcPort = Number(await waitFor(() => /"tcp":\{"host":"[^"]+","port":(\d+)\}/.exec(controller.output())?.[1], { what: 'the JSON-RPC listener', timeoutMs: 30_000, intervalMs: 100 }));
    const hello = async (token: string): Promise<unknown> => {
      const conn = await connectTcpClient(rpcPort);
      expect(await conn.next()).toMatchObject({ method: 'greetings', params: { version: '1.1' } });
      const reply = (await conn.call('hello', { who: 'e2e-http', method: 'password', token })).result;
      conn.close();
      return reply;
    };
    expect(await hello(issued.token)).toEqual([false, 'who or token is wrong']);
    expect(await hello(fresh)).toEqual([true, expect.stringContaining('welcome')]);
    controller.kill('SIGTERM');
    expect(await controller.exited).toBe(0);
  });
});
