/**
 * `drover triggers …`, called in-process through the command entry (`main`), both ways it runs:
 * straight against PostgreSQL with DATABASE_URL, and through the HTTP API of an embedded instance
 * (a controller's API on a real PostgreSQL store, found through the data folder with the local
 * token, as `drover dev` leaves them). Bad input exits 2 naming the argument or option, and
 * nothing is written (also generated with fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runDrover, useEmbeddedCli } from './cli-harness.js';

const { ns, modes: MODES } = useEmbeddedCli('cli-trig-admin');
const drover = runDrover;

/** Every trigger and every job: a refused command must change neither. */
async function everything(): Promise<string> {
  return JSON.stringify({ triggers: await ns.store.listTriggers({ limit: 1000 }), jobs: (await ns.store.findJobs({ limit: 1000 })).map((j) => [j.id, j.state]) });
}

describe.each(Object.keys(MODES) as (keyof typeof MODES)[])('drover triggers, %s', (mode) => {
  const env = (): Record<string, string> => MODES[mode]();
  const funcname = `report.${mode}`;

  it('adds a trigger with every option and prints it as JSON', async () => {
    const added = await drover(
      ['triggers', 'add', '@cron 0 0 3 * * *', funcname, '{"full":true}', '--priority', '5', '--max-retries', '2', '--timeout-ms', '60000', '--uniqkey', `${mode}-nightly`, '--time-zone', 'Europe/Amsterdam', '--catch-up', 'all', '--disabled', '--json'],
      env(),
    );
    expect(added.code, added.stderr).toBe(0);
    const trigger = JSON.parse(added.stdout) as Record<string, unknown>;
    expect(trigger).toMatchObject({ spec: '@cron 0 0 3 * * *', type: 'cron', funcname, arg: { full: true }, priority: 5, maxRetries: 2, timeoutMs: 60000, uniqkey: `${mode}-nightly`, timeZone: 'Europe/Amsterdam', catchUp: 'all', enabled: false });
    expect(await ns.store.getTrigger(trigger.id as string)).toMatchObject({ funcname, enabled: false, catchUp: 'all' });

    const debounced = await drover(['triggers', 'add', '@event io.cozy.files:CREATED', funcname, '--debounce', '30s', '--json'], env());
    expect(debounced.code, debounced.stderr).toBe(0);
    expect(JSON.parse(debounced.stdout)).toMatchObject({ type: 'event', debounceMs: 30_000 });
  });

  it('lists, shows, launches, disables, enables and removes a trigger', async () => {
    const added = await drover(['triggers', 'add', '@every 1h', funcname, '{"n":1}'], env());
    expect(added.code, added.stderr).toBe(0);
    const id = /^trigger (\d+) added: @every 1h → /.exec(added.stdout)?.[1];
    expect(id, added.stdout).toBeDefined();

    const table = await drover(['triggers', 'list', '--funcname', funcname], env());
    expect(table.stdout).toMatch(/id\s+spec\s+funcname\s+enabled\s+next_fire_at\s+fires/);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+@every 1h\\s+${funcname.replace('.', '\\.')}\\s+yes\\s`, 'm'));
    const listed = JSON.parse((await drover(['triggers', 'list', '--funcname', funcname, '--json'], env())).stdout) as { id: string }[];
    expect(listed.map((t) => t.id)).toContain(id);

    const launched = await drover(['triggers', 'launch', id!, '--json'], env());
    expect(launched.code, launched.stderr).toBe(0);
    const { jobId } = JSON.parse(launched.stdout) as { jobId: string };
    expect(await ns.store.getJob(jobId)).toMatchObject({ funcname, arg: { n: 1 } });

    const shown = await drover(['triggers', 'show', id!], env());
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^spec\s+@every 1h$/m);
    expect(shown.stdout).toMatch(new RegExp(`^last_job_id\\s+${jobId}$`, 'm'));
    expect(shown.stdout).toMatch(new RegExp(`^${jobId}\\s+${funcname.replace('.', '\\.')}\\s+(ready|dispatched)`, 'm'));
    const shownJson = JSON.parse((await drover(['triggers', 'show', id!, '--json'], env())).stdout) as { fires: number; jobs: { id: string }[] };
    expect(shownJson.fires).toBe(1);
    expect(shownJson.jobs.map((j) => j.id)).toEqual([jobId]);

    expect((await drover(['triggers', 'disable', id!], env())).stdout).toBe(`trigger ${id} disabled\n`);
    expect(await ns.store.getTrigger(id!)).toMatchObject({ enabled: false });
    const enabled = await drover(['triggers', 'enable', id!, '--json'], env());
    expect(JSON.parse(enabled.stdout)).toMatchObject({ id, enabled: true });

    expect((await drover(['triggers', 'rm', id!], env())).code).toBe(0);
    expect(await ns.store.getTrigger(id!)).toBeNull();
    for (const cmd of ['rm', 'show', 'launch', 'enable', 'disable']) {
      const missing = await drover(['triggers', cmd, id!], env());
      expect({ cmd, code: missing.code }).toEqual({ cmd, code: 1 });
      expect(missing.stderr).toBe(`no trigger ${id}\n`);
    }
  });

  it('exits 2 on bad input, naming the argument or option, and writes nothing', async () => {
    const before = await everything();
    const cases: [string[], string][] = [
      [['triggers', 'add', '@cron 0 0 99 * * *', funcname], '<spec>'],
      [['triggers', 'add', '@sometimes', funcname], '<spec>'],
      [['triggers', 'add', '@every 0s', funcname], '<spec>'],
      [['triggers', 'add', '@every 1h', 'has space'], '<funcname>'],
      [['triggers', 'add', '@every 1h', funcname, '{'], '<arg>'],
      [['triggers', 'add', '@daily', funcname, '--time-zone', 'Mars/Olympus'], '--time-zone'],
      [['triggers', 'add', '@daily', funcname, '--catch-up', 'some'], '--catch-up'],
      [['triggers', 'add', '@daily', funcname, '--debounce', '30s'], '--debounce'],
      [['triggers', 'add', '@webhook', funcname, '--debounce', '0s'], '--debounce'],
      [['triggers', 'add', '@daily', funcname, '--priority', 'high'], '--priority'],
      [['triggers', 'add', '@daily', funcname, '--max-retries', '1.5'], '--max-retries'],
      [['triggers', 'add', '@daily', funcname, '--timeout-ms', '0'], '--timeout-ms'],
      [['triggers', 'list', '--limit', '0'], '--limit'],
      [['triggers', 'list', '--before', 'abc'], '--before'],
      [['triggers', 'show', 'abc'], '<id>'],
      [['triggers', 'launch', '0'], '<id>'],
      [['triggers', 'rm', '1.5'], '<id>'],
    ];
    for (const [argv, name] of cases) {
      const { code, stderr } = await drover(argv, env());
      expect({ argv, code }).toEqual({ argv, code: 2 });
      expect(stderr).toContain(name);
    }
    expect(await everything()).toBe(before);
  });
});

/** Whether this system knows the zone (what the CLI checks): the generator keeps only the others. */
function knownZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

describe('drover triggers, property-based', () => {
  it('exits 2 on any generated bad option, naming it, and writes nothing', async () => {
    const before = await everything();
    const bad: fc.Arbitrary<[string[], string]> = fc.oneof(
      fc.constantFrom('@', '@every', '@every 5', '@every -1s', '@cron * *', '@at tomorrow', '@in 0s', 'every 5s', '').map((s) => [['triggers', 'add', s, 'report.prop'], '<spec>'] as [string[], string]),
      fc.string({ maxLength: 12 }).filter((z) => !knownZone(z)).map((z) => [['triggers', 'add', '@daily', 'report.prop', '--time-zone', z], '--time-zone'] as [string[], string]),
      fc.string({ maxLength: 6 }).filter((c) => !['one', 'all', 'none'].includes(c)).map((c) => [['triggers', 'add', '@daily', 'report.prop', '--catch-up', c], '--catch-up'] as [string[], string]),
      fc.oneof(fc.constantFrom('101', '-101', 'x', '1e2'), fc.integer({ min: 101 }).map(String)).map((p) => [['triggers', 'add', '@daily', 'report.prop', '--priority', p], '--priority'] as [string[], string]),
    );
    await fc.assert(
      fc.asyncProperty(bad, fc.constantFrom(...(Object.keys(MODES) as (keyof typeof MODES)[])), async ([argv, name], mode) => {
        const { code, stderr } = await drover(argv, MODES[mode]());
        expect(code, stderr).toBe(2);
        expect(stderr).toContain(name);
      }),
      { numRuns: 150 },
    );
    expect(await everything()).toBe(before);
  });
});
