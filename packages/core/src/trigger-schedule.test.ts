import { describe, expect, it } from 'vitest';
import { fieldOf } from './field-of.test-support.js';
import { CATCH_UP_MAX_PER_PASS, LATE_GRACE_MS, checkTimeZone, firstFireAt, parseTriggerSpec, planFires, type TriggerSchedule } from './trigger-schedule.js';
import { validateNewTrigger } from './trigger.js';

const at = (iso: string): Date => new Date(iso);
const iso = (dates: Date[]): string[] => dates.map((d) => d.toISOString());

describe('parseTriggerSpec', () => {
  it.each([
    ['@at 2030-01-01T03:00:00Z', 'at', '2030-01-01T03:00:00Z'],
    ['@in 5s', 'in', '5s'],
    ['@every 1h30m', 'every', '1h30m'],
    ['@cron 0 0 3 * * *', 'cron', '0 0 3 * * *'],
    ['@cron 30 4 * * 1', 'cron', '0 30 4 * * 1'],
    ['@hourly', 'cron', '0 0 * * * *'],
    ['@daily', 'cron', '0 0 0 * * *'],
    ['@weekly', 'cron', '0 0 0 * * 0'],
    ['@monthly', 'cron', '0 0 0 1 * *'],
    ['@event io.cozy.files:CREATED', 'event', 'io.cozy.files:CREATED'],
    ['@webhook', 'webhook', ''],
    ['@client', 'client', ''],
    ['  @every   10s ', 'every', '10s'],
  ])('reads %s', (spec, type, args) => {
    const parsed = parseTriggerSpec(spec);
    expect(parsed.type).toBe(type);
    expect(parsed.args).toBe(args);
  });

  it.each([
    ['an unknown type', '@sometimes'],
    ['no type', 'every 10s'],
    ['a zero duration', '@every 0s'],
    ['a negative duration', '@in -5s'],
    ['a duration without unit', '@every 10'],
    ['an invalid cron field', '@cron 61 * * * * *'],
    ['a cron spec with four fields', '@cron * * * *'],
    ['a cron spec with seven fields', '@cron 0 0 3 * * * 2030'],
    ['a cron spec that never matches', '@cron 0 0 0 31 2 *'],
    ['an @at without offset', '@at 2030-01-01T03:00:00'],
    ['an @at that is no date', '@at tomorrow'],
    ['an @event without selector', '@event'],
    ['@client with an argument', '@client now'],
    ['@daily with an argument', '@daily 3am'],
    ['not a string', 42],
    ['a name of Object.prototype', 'constructor'],
    ['another one', '__proto__ x'],
  ])('refuses %s, naming spec', (_what, spec) => {
    expect(fieldOf(() => parseTriggerSpec(spec))).toBe('spec');
  });
});

describe('validateNewTrigger', () => {
  it('applies defaults', () => {
    const t = validateNewTrigger({ spec: '@every 10s', funcname: 'report.tick' });
    expect(t).toMatchObject({ type: 'every', timeZone: 'UTC', catchUp: 'one', debounceMs: null, enabled: true });
    expect(t.job).toEqual({ funcname: 'report.tick', argJson: 'null', priority: 0, maxRetries: 15, timeoutMs: null, uniqkey: null });
  });

  it.each([
    ['an unknown time zone', { spec: '@daily', funcname: 'f', timeZone: 'Mars/Olympus' }, 'timeZone'],
    ['an unknown catch-up policy', { spec: '@daily', funcname: 'f', catchUp: 'some' }, 'catchUp'],
    ['debounce on a time trigger', { spec: '@every 10s', funcname: 'f', debounce: '30s' }, 'debounce'],
    ['a zero debounce', { spec: '@event io.cozy.files', funcname: 'f', debounce: '0s' }, 'debounce'],
    ['a bad funcname', { spec: '@daily', funcname: 'a b' }, 'funcname'],
    ['a bad priority', { spec: '@daily', funcname: 'f', priority: 500 }, 'priority'],
    ['an arg JSON cannot hold', { spec: '@daily', funcname: 'f', arg: { n: 1n } }, 'arg.n'],
    ['an unknown field', { spec: '@daily', funcname: 'f', when: 'now' }, 'when'],
    ['a non-boolean enabled', { spec: '@daily', funcname: 'f', enabled: 'yes' }, 'enabled'],
  ])('refuses %s, naming the field', (_what, input, field) => {
    expect(fieldOf(() => validateNewTrigger(input as never))).toBe(field);
  });

  it('accepts debounce on event and webhook triggers', () => {
    expect(validateNewTrigger({ spec: '@webhook', funcname: 'f', debounce: '30s' }).debounceMs).toBe(30_000);
  });
});

describe('checkTimeZone', () => {
  it('knows IANA names and refuses others', () => {
    expect(checkTimeZone('Europe/Amsterdam')).toBe('Europe/Amsterdam');
    expect(fieldOf(() => checkTimeZone('Europe/Atlantis'))).toBe('timeZone');
  });
});

describe('firstFireAt', () => {
  const now = at('2030-01-01T00:00:07Z');
  it.each([
    ['@every 10s', '2030-01-01T00:00:17.000Z'],
    ['@in 5s', '2030-01-01T00:00:12.000Z'],
    ['@at 2029-06-01T00:00:00Z', '2029-06-01T00:00:00.000Z'],
    ['@cron */15 * * * * *', '2030-01-01T00:00:15.000Z'],
    ['@hourly', '2030-01-01T01:00:00.000Z'],
  ])('%s first fires at %s', (spec, when) => {
    expect(firstFireAt(parseTriggerSpec(spec).schedule, 'UTC', now)?.toISOString()).toBe(when);
  });

  it('gives on-demand triggers no fire time', () => {
    for (const spec of ['@client', '@webhook', '@event a.b']) expect(firstFireAt(parseTriggerSpec(spec).schedule, 'UTC', now)).toBeNull();
  });

  it('reads a cron spec in its time zone', () => {
    const daily3 = parseTriggerSpec('@cron 0 0 3 * * *').schedule;
    expect(firstFireAt(daily3, 'Europe/Amsterdam', at('2030-01-01T00:00:00Z'))?.toISOString()).toBe('2030-01-01T02:00:00.000Z');
    expect(firstFireAt(daily3, 'Europe/Amsterdam', at('2030-07-01T00:00:00Z'))?.toISOString()).toBe('2030-07-01T01:00:00.000Z');
  });
});

describe('planFires', () => {
  const every10: TriggerSchedule = { type: 'every', intervalMs: 10_000 };
  const due = at('2030-01-01T00:00:10Z');

  it('fires the one due tick on time, whatever the policy', () => {
    for (const policy of ['one', 'all', 'none'] as const) {
      const plan = planFires(every10, 'UTC', policy, due, at('2030-01-01T00:00:10.050Z'));
      expect(iso(plan.fire)).toEqual(['2030-01-01T00:00:10.000Z']);
      expect(plan.next?.toISOString()).toBe('2030-01-01T00:00:20.000Z');
    }
  });

  it('after an hour down: one job (the latest tick), one per tick, or none; next after now', () => {
    const now = at('2030-01-01T01:00:15Z');
    const one = planFires(every10, 'UTC', 'one', due, now);
    expect(iso(one.fire)).toEqual(['2030-01-01T01:00:10.000Z']);
    const all = planFires(every10, 'UTC', 'all', due, now);
    expect(all.fire).toHaveLength(361);
    expect(all.fire.at(-1)?.toISOString()).toBe('2030-01-01T01:00:10.000Z');
    const none = planFires(every10, 'UTC', 'none', due, now);
    expect(none.fire).toEqual([]);
    for (const plan of [one, all, none]) expect(plan.next?.toISOString()).toBe('2030-01-01T01:00:20.000Z');
  });

  it('with none, a single tick later than the grace is missed too', () => {
    const cron = parseTriggerSpec('@daily').schedule;
    const midnight = at('2030-01-02T00:00:00Z');
    expect(planFires(cron, 'UTC', 'none', midnight, new Date(midnight.getTime() + LATE_GRACE_MS))).toMatchObject({ fire: [midnight] });
    expect(planFires(cron, 'UTC', 'none', midnight, new Date(midnight.getTime() + LATE_GRACE_MS + 1)).fire).toEqual([]);
  });

  it('bounds all to a pass, leaving the rest due', () => {
    const now = at('2030-01-02T00:00:00Z');
    const plan = planFires(every10, 'UTC', 'all', due, now);
    expect(plan.fire).toHaveLength(CATCH_UP_MAX_PER_PASS);
    expect(plan.next!.getTime()).toBe(due.getTime() + CATCH_UP_MAX_PER_PASS * 10_000);
  });

  it('fires @at and @in once and is done', () => {
    const plan = planFires({ type: 'at', at: due }, 'UTC', 'none', due, at('2031-01-01T00:00:00Z'));
    expect(plan).toEqual({ fire: [due], next: null });
  });

  it('takes the latest missed cron tick for the default policy, in the time zone', () => {
    const cron = parseTriggerSpec('@cron 0 30 2 * * *').schedule;
    // Due 2026-03-28 at 02:30 CET (01:30Z), back on the 30th at noon: the latest tick was that morning's 02:30 CEST (00:30Z).
    const plan = planFires(cron, 'Europe/Amsterdam', 'one', at('2026-03-28T01:30:00Z'), at('2026-03-30T12:00:00Z'));
    expect(iso(plan.fire)).toEqual(['2026-03-30T00:30:00.000Z']);
    expect(plan.next?.toISOString()).toBe('2026-03-31T00:30:00.000Z');
  });
});
