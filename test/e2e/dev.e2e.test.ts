/**
 * `drover dev`, the one-command start: no service URLs, an embedded database in a folder, the demo,
 * and the other commands talking to it. Also killed mid-demo and started again.
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useDroverProcesses, waitFor, type DroverProcess } from '@drover/testing';

const processes = useDroverProcesses();

/** No service URLs, whatever the test runner's environment holds: embedded mode. */
function embeddedEnv(dataDir: string): Record<string, string> {
  return { DATABASE_URL: '', AMQP_URL: '', DROVER_DATA_DIR: dataDir, DROVER_HTTP_PORT: '0', DROVER_RPC_PORT: '0', LOG_LEVEL: 'warn', DROVER_NAMESPACE: 'drover' };
}

interface JobJson {
  id: string;
  funcname: string;
  state: string;
  attempts: number;
  failures: number;
  uniqkey: string | null;
  runAfter: string;
  createdAt: string;
  finishedAt: string | null;
  result: unknown;
}

async function jobsJson(env: Record<string, string>): Promise<JobJson[]> {
  const out = await processes.run(['jobs', '--json', '--limit', '1000'], env);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as JobJson[];
}

/**
 * Whether a job is one the demo enqueued: those of its trigger (demo.tick, one every 5 s while dev
 * runs) and the demo workflow's children (demo.sum, the calls it makes) are not.
 */
function isDemoJob(j: JobJson): boolean {
  return j.funcname !== 'demo.tick' && j.funcname !== 'demo.sum';
}

/** The demo's enqueued jobs. */
async function demoJobsJson(env: Record<string, string>): Promise<JobJson[]> {
  return (await jobsJson(env)).filter(isDemoJob);
}

interface TriggerJson {
  id: string;
  spec: string;
  funcname: string;
  fires: number;
  lastJobId: string | null;
}

async function triggersJson(env: Record<string, string>): Promise<TriggerJson[]> {
  const out = await processes.run(['triggers', 'list', '--json'], env);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as TriggerJson[];
}

describe('drover dev', () => {
  it('runs the demo on an embedded database with no services configured, and answers the CLI', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'drover-dev-'));
    const env = embeddedEnv(dataDir);
    const dev = processes.start(['dev', '--json'], env);
    const summary = await waitFor(() => {
      const out = dev.output();
      const start = out.indexOf('{\n  "event": "demo-finished"');
      return start >= 0 && out.trimEnd().endsWith('}') ? (JSON.parse(out.slice(start)) as { call: unknown; duplicateOf: string; jobs: { label: string; id: string; funcname: string }[]; trigger: unknown }) : null;
    }, { what: 'the demo summary', timeoutMs: 90_000, intervalMs: 200 });
    expect(summary.call).toEqual({ result: 5 });
    expect(summary.trigger).toMatchObject({ spec: '@every 5s', funcname: 'demo.tick' });

    // One listing for the demo's jobs and the workflow's children: each `drover jobs` is a process to start.
    const listed = await jobsJson(env);
    const jobs = listed.filter(isDemoJob);
    const byLabel = new Map(summary.jobs.map((d) => [d.label, jobs.find((j) => j.id === d.id)!]));
    expect(jobs).toHaveLength(10);
    expect(jobs.every((j) => j.state === 'completed')).toBe(true);
    // The demo workflow (demo.wf, loaded at start) ran its two calls of demo.sum: (2 + 3) doubled.
    const flow = summary.jobs.find((d) => d.label.startsWith('workflow demo.flow'))!;
    expect(summary.jobs.find((d) => d.id === flow.id)).toMatchObject({ funcname: 'demo.flow', state: 'completed', result: { total: 10 } });
    expect(listed.filter((j) => j.funcname === 'demo.sum').map((j) => [j.state, j.result])).toEqual([['completed', { sum: 10 }], ['completed', { sum: 5 }]]);
    const units = JSON.parse((await processes.run(['workflows', 'list', '--json'], env)).stdout) as { name: string; version: number }[];
    expect(units.map((u) => [u.name, u.version])).toEqual([['demo.flow', 1], ['demo.sum', 1]]);
    const shownFlow = JSON.parse((await processes.run(['show', flow.id, '--json'], env)).stdout) as { steps?: unknown[] };
    expect(shownFlow.steps?.length).toBeGreaterThan(0);
    expect(byLabel.get('succeeds')).toMatchObject({ result: 'Hello, Drover!', attempts: 1, failures: 0 });
    expect(byLabel.get('fails twice, then succeeds')).toMatchObject({ result: 'third time lucky', attempts: 3, failures: 2 });
    const delayed = byLabel.get('delayed 3 s')!;
    expect(new Date(delayed.finishedAt!).getTime()).toBeGreaterThanOrEqual(new Date(delayed.runAfter).getTime());
    expect(new Date(delayed.runAfter).getTime() - new Date(delayed.createdAt).getTime()).toBeGreaterThanOrEqual(2900);
    // The duplicate uniqkey made no job of its own: one job holds demo-once, and it is the one returned.
    expect(jobs.filter((j) => j.uniqkey === 'demo-once').map((j) => j.id)).toEqual([summary.duplicateOf]);
    expect(byLabel.get('call: 2 + 3, waited for')).toMatchObject({ result: 5 });

    // The other commands reach the running instance.
    const enqueued = await processes.run(['enqueue', 'demo.greet', '{"name":"test"}', '--json'], env);
    const { id } = JSON.parse(enqueued.stdout) as { id: string };
    await waitFor(async () => (await jobsJson(env)).find((j) => j.id === id)?.state === 'completed', { what: 'the enqueued job' });
    const stats = JSON.parse((await processes.run(['stats', '--json'], env)).stdout) as { funcname: string; state: string; count: number }[];
    expect(stats.find((s) => s.funcname === 'demo.greet' && s.state === 'completed')?.count).toBe(4);

    // Those commands needed no token from the user: dev keeps its local admin's in the data folder, owner-only.
    const tokenFile = join(dataDir, 'token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const { url } = JSON.parse(readFileSync(join(dataDir, 'instance.json'), 'utf8')) as { url: string };
    expect((await fetch(`${url}/jobs`)).status).toBe(401);
    expect((await fetch(`${url}/jobs`, { headers: { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` } })).status).toBe(200);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });

    dev.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
    expect(existsSync(join(dataDir, 'instance.json'))).toBe(false);
    const after = await processes.run(['jobs'], env);
    expect(after.code).toBe(2);
    expect(after.stderr).toMatch(/DATABASE_URL: is not set, and no `drover dev` is running/);
  });

  it('keeps every job when killed mid-demo, and finishes the unfinished ones when started again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'drover-dev-'));
    const env = embeddedEnv(dataDir);
    const first = processes.start(['dev'], env);
    await waitFor(() => /demo\.slow: [^|]*running/.test(first.output()), { what: 'slow demo jobs to be running', timeoutMs: 90_000, intervalMs: 50 });
    first.kill('SIGKILL');
    await first.exited;

    const second = processes.start(['dev'], env);
    await waitFor(() => second.output().includes('Demo summary:'), { what: 'the demo to finish after the restart', timeoutMs: 90_000, intervalMs: 200 });
    expect(second.output()).toMatch(/going on with the 10 demo jobs of the last run/);
    // The demo workflow is loaded once: the restart keeps the stored version.
    expect(second.output()).toContain('Demo workflow: kept from the last run demo.flow');
    expect(second.output()).toMatch(/interrupted job\(s\) taken back/);
    const jobs = await demoJobsJson(env);
    expect(jobs).toHaveLength(10);
    expect(jobs.filter((j) => j.state !== 'completed')).toEqual([]);
    // A job interrupted by the kill counts one failed attempt, and finished on the next.
    expect(jobs.some((j) => j.funcname === 'demo.slow' && j.failures === 1)).toBe(true);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

/**
 * The trigger and the API clients are checked against one running instance, then against the same
 * folder started again: each start costs an embedded database and its migrations, and what a
 * restart keeps (the trigger, the local token) is one restart's worth of checks.
 */
describe('drover dev, one instance started again', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'drover-dev-'));
  const env = embeddedEnv(dataDir);
  let first: DroverProcess;
  let announced = '';

  beforeAll(() => {
    first = processes.start(['dev'], env);
  });

  it('shows its demo trigger firing', async () => {
    announced = await waitFor(() => /Demo trigger: made trigger (\d+) \(@every 5s → demo\.tick\)/.exec(first.output())?.[1], { what: 'the demo trigger to be announced', timeoutMs: 90_000, intervalMs: 100 });
    // After the demo's summary, each fire gets a line.
    const fired = await waitFor(() => new RegExp(`trigger ${announced} \\(@every 5s\\) fired: job (\\d+) \\(demo\\.tick\\)`).exec(first.output())?.[1], { what: 'a fire of the demo trigger after the summary', timeoutMs: 90_000, intervalMs: 100 });
    await waitFor(async () => (await jobsJson(env)).find((j) => j.id === fired)?.state === 'completed', { what: 'the fired job to complete', intervalMs: 200 });
    const [trigger] = await triggersJson(env);
    expect(trigger).toMatchObject({ id: announced, spec: '@every 5s', funcname: 'demo.tick' });
    expect(trigger!.fires).toBeGreaterThanOrEqual(1);
    // Its jobs are listed with it.
    const shown = JSON.parse((await processes.run(['triggers', 'show', announced, '--json'], env)).stdout) as { jobs: { id: string }[] };
    expect(shown.jobs.map((j) => j.id)).toContain(fired);
  });

  it('manages API clients through the embedded instance, with the local token or a client of its own', async () => {
    await waitFor(() => existsSync(join(dataDir, 'instance.json')), { what: 'drover dev to be up', timeoutMs: 90_000, intervalMs: 100 });

    const added = await processes.run(['clients', 'add', 'greeter', '--call', 'demo.greet', '--json'], env);
    expect(added.code, added.stderr).toBe(0);
    const { token } = JSON.parse(added.stdout) as { token: string };
    const listed = JSON.parse((await processes.run(['clients', 'list', '--json'], env)).stdout) as { who: string; admin: boolean }[];
    expect(listed.map((c) => [c.who, c.admin])).toEqual([['greeter', false], ['local-admin', true]]);

    // DROVER_TOKEN takes the place of the local admin's token, with its scopes.
    const asGreeter = { ...env, DROVER_TOKEN: token };
    const enqueued = await processes.run(['enqueue', 'demo.greet', '{"name":"scoped"}', '--json'], asGreeter);
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const refused = await processes.run(['enqueue', 'demo.add', '{"a":1,"b":2}'], asGreeter);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/403 .*demo\.add/);
    expect((await processes.run(['clients', 'list'], asGreeter)).stderr).toMatch(/403/);

    const rotated = await processes.run(['clients', 'rotate', 'greeter', '--json'], env);
    const fresh = (JSON.parse(rotated.stdout) as { token: string }).token;
    expect((await processes.run(['stats'], asGreeter)).stderr).toMatch(/401/);
    expect((await processes.run(['enqueue', 'demo.greet', '{}'], { ...env, DROVER_TOKEN: fresh })).code).toBe(0);
    expect((await processes.run(['clients', 'add', 'greeter'], env)).stderr).toMatch(/^drover: <name>: a client named greeter exists already/);
    expect((await processes.run(['clients', 'rm', 'greeter'], env)).code).toBe(0);
    expect((await processes.run(['enqueue', 'demo.greet', '{}'], { ...env, DROVER_TOKEN: fresh })).stderr).toMatch(/401/);
  });

  it('keeps its trigger (made once whatever the number of restarts) and its local token when started again', async () => {
    const before = readFileSync(join(dataDir, 'token'), 'utf8');
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = processes.start(['dev'], env);
    await waitFor(() => second.output().includes(`Demo trigger: kept from the last run trigger ${announced} (@every 5s → demo.tick)`), { what: 'the kept trigger to be announced', timeoutMs: 90_000, intervalMs: 100 });
    // The local admin's token is the one the first run wrote: the CLI still gets in with it.
    expect(readFileSync(join(dataDir, 'token'), 'utf8')).toBe(before);
    expect((await processes.run(['stats'], env)).code).toBe(0);
    const firesBefore = (await triggersJson(env))[0]!.fires;
    // The fire lines carry the trigger's count: wait for one past the count read above.
    const firedLine = new RegExp(`trigger ${announced} \\(@every 5s\\) fired: job \\d+ \\(demo\\.tick\\), (\\d+) fire\\(s\\) so far`, 'g');
    await waitFor(() => [...second.output().matchAll(firedLine)].some((m) => Number(m[1]) > firesBefore), { what: 'the kept trigger to fire again', timeoutMs: 30_000, intervalMs: 100 });
    const triggers = await triggersJson(env);
    expect(triggers.map((t) => t.id)).toEqual([announced]);
    expect(triggers[0]!.fires).toBeGreaterThan(firesBefore);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
