/**
 * A connection that drops while a request is out, against a scripted server over real sockets
 * (the server is @drover/jsonrpc's own end, so the wire is the real one): the controller's part is
 * played exactly, down to never answering `create_job` before it hangs up, which a real controller
 * cannot be made to do on cue. The client must reject the unanswered request at once with an
 * error that says the job may exist, never hang, and never send it again by itself; and it must
 * come back for the next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallFailedError, Peer, listenTcp, type RpcListener } from '@drover/jsonrpc';
import { connectApi, type RpcClient } from '@drover/rpc-client';
import { waitFor } from '@drover/testing';

/** What the scripted server does with `create_job` on each connection, in order: hang up, or answer with this id. */
type CreateJobScript = 'hang-up' | number;

let listener: RpcListener;
const clients: RpcClient[] = [];
/** Every create_job the server received, by connection number (from 1). */
const received: { connection: number; inargs: unknown }[] = [];
let script: CreateJobScript[] = [];
let connections = 0;

beforeAll(async () => {
  listener = await listenTcp({
    port: 0,
    onChannel: (channel) => {
      const connection = ++connections;
      const peer: Peer = new Peer({
        channel,
        methods: (name) => {
          if (name === 'hello') return () => [true, 'welcome'];
          if (name === 'create_job') {
            return (params) => {
              received.push({ connection, inargs: params.inargs });
              const step = script.shift() ?? 'hang-up';
              if (step === 'hang-up') {
                // As a killed controller: the request was read, no answer ever goes out.
                peer.close('the scripted server hangs up');
                return new Promise<never>(() => undefined);
              }
              return [step, null];
            };
          }
          return undefined;
        },
      });
      peer.notify('greetings', { who: 'scripted', version: '1.1' }).catch(() => undefined);
    },
  });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await listener.close();
});

async function open(): Promise<RpcClient> {
  // A request timeout far beyond the test's: a rejection can only come from the drop itself.
  const client = await connectApi({ url: `tcp://127.0.0.1:${listener.port}`, who: 'dropper', token: 'secret', requestTimeoutMs: 120_000, reconnect: { minDelayMs: 20, maxDelayMs: 100 } });
  clients.push(client);
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<CallFailedError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CallFailedError);
  return err as CallFailedError;
}

describe('a connection that drops with create_job unanswered', () => {
  it('callNb rejects at once saying the job may have been created, is not sent again, and the next callNb goes through on the new connection', async () => {
    script = ['hang-up', 41];
    received.length = 0;
    const client = await open();
    const sessions = client.status().sessions;
    const err = await rejection(client.callNb('t.fn', { n: 1 }));
    expect(err.sent).toBe(true);
    expect(err.message).toMatch(/^create_job t\.fn: no answer came \(create_job: the connection closed before the answer came .*\); the job may have been created/);
    await waitFor(() => client.status().sessions > sessions, { what: 'the client to reconnect' });
    expect(await client.callNb('t.fn', { n: 2 })).toBe('41');
    // The unanswered request went out once: the client did not repeat it on the new connection.
    expect(received.map((r) => r.inargs)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(received[1]!.connection).toBeGreaterThan(received[0]!.connection);
  });

  it('call rejects the same way when its create_job is unanswered, instead of waiting for a job it has no id for', async () => {
    script = ['hang-up'];
    received.length = 0;
    const client = await open();
    const err = await rejection(client.call('t.fn', { n: 3 }, { timeoutS: 0 }));
    expect(err).toMatchObject({ sent: true, message: expect.stringMatching(/^create_job t\.fn: no answer came .*the job may have been created/) });
    expect(received.map((r) => r.inargs)).toEqual([{ n: 3 }]);
  });
});
