/**
 * Property-based bad input over the worker's flow-control options (`rateLimit`, `concurrency`,
 * `flowFailOpen`): every generated bad value, one at a time in an otherwise good configuration,
 * is refused at construction with a ValidationError naming its field, and nothing starts: no
 * consumer on the broker, no call to the flow-control store, the job waiting in PostgreSQL and
 * its message in its queue untouched. Good values, generated the same way, are accepted, so
 * that the refusals are the bad value's doing.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError, type Delivery, type FlowControl, type Subscription } from '@drover/core';
import { MemoryBroker } from '@drover/broker';
import { MemoryFlowControl } from '@drover/flow-control';
import { useTestNamespace } from '@drover/testing';
import { createWorker } from '../src/index.js';

const ns = useTestNamespace();

/** The in-memory broker, counting the consumers asked of it. */
class CountingBroker extends MemoryBroker {
  consumers = 0;

  override consume(funcnames: readonly string[], prefetch: number, onDelivery: (delivery: Delivery) => void): Promise<Subscription> {
    this.consumers++;
    return super.consume(funcnames, prefetch, onDelivery);
  }
}

/** The in-memory flow control, counting every call made of it. */
class CountingFlowControl extends MemoryFlowControl {
  calls = 0;

  override takeStart(...args: Parameters<FlowControl['takeStart']>): ReturnType<FlowControl['takeStart']> {
    this.calls++;
    return super.takeStart(...args);
  }
  override takeStarts(...args: Parameters<FlowControl['takeStarts']>): ReturnType<FlowControl['takeStarts']> {
    this.calls++;
    return super.takeStarts(...args);
  }
  override takePlace(...args: Parameters<FlowControl['takePlace']>): ReturnType<FlowControl['takePlace']> {
    this.calls++;
    return super.takePlace(...args);
  }
  override renewPlaces(...args: Parameters<FlowControl['renewPlaces']>): ReturnType<FlowControl['renewPlaces']> {
    this.calls++;
    return super.renewPlaces(...args);
  }
  override releasePlace(...args: Parameters<FlowControl['releasePlace']>): ReturnType<FlowControl['releasePlace']> {
    this.calls++;
    return super.releasePlace(...args);
  }
}

const FUNCNAME = 'flow.prop';
const broker = new CountingBroker();
const flowControl = new CountingFlowControl();
let jobId = '';

beforeAll(async () => {
  // A job waiting for the function, its message in the queue: a worker that started would take it.
  jobId = (await ns.store.insert({ funcname: FUNCNAME })).id;
  await broker.publish([{ funcname: FUNCNAME, jobId, priority: 0 }]);
});

const WEEK_MS = 7 * 24 * 3_600_000;
const DOTTED = /^[^.]+(\.[^.]+)*$/;

/** Values that are not a number at all. */
const notANumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.constant([]), fc.object({ maxDepth: 1 }), fc.bigInt());
/** Not an integer from 1 to `max`. */
const badCount = (max: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    // Just past each bound, where an off-by-one would let a value through, as well as far past.
    fc.constantFrom(0, -1, max + 1),
    fc.integer({ min: max + 1, max: max * 2 }),
    fc.integer({ max: 0 }),
    fc.integer({ min: max + 1 }),
    fc.double({ noInteger: true }),
    fc.constantFrom(Number.NaN, Infinity, -Infinity),
    notANumber,
  );
/** Neither a dotted path into the arg nor a function. */
const badKey: fc.Arbitrary<unknown> = fc.oneof(
  fc.string().filter((s) => !DOTTED.test(s)),
  fc.constantFrom('', '.', 'a.', '.a', 'a..b'),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);
const goodKey = fc.oneof(
  fc.array(fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes('.')), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.')),
  fc.constant((arg: unknown) => String(arg)),
);
/** An option name that is not one of `known`. */
const unknownName = (known: string[]): fc.Arbitrary<string> => fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !known.includes(s) && s !== '__proto__');
/** Not an object at all. */
const notAnObject = fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));

const goodRate = fc.record({ max: fc.integer({ min: 1, max: 1_000_000 }), perMs: fc.integer({ min: 1, max: WEEK_MS }), key: goodKey }, { requiredKeys: ['max', 'perMs'] });
const goodCap = fc.record({ perKey: fc.integer({ min: 1, max: 100_000 }), key: goodKey });

/** A bad `rateLimit` and the field its error must name. */
const badRate: fc.Arbitrary<[unknown, string]> = fc.oneof(
  notAnObject.map((v): [unknown, string] => [v, 'rateLimit']),
  fc.tuple(goodRate, badCount(1_000_000)).map(([r, max]): [unknown, string] => [{ ...r, max }, 'rateLimit.max']),
  fc.tuple(goodRate, badCount(WEEK_MS)).map(([r, perMs]): [unknown, string] => [{ ...r, perMs }, 'rateLimit.perMs']),
  fc.tuple(goodRate, badKey).map(([r, key]): [unknown, string] => [{ ...r, key }, 'rateLimit.key']),
  fc.tuple(goodRate, fc.constantFrom('max', 'perMs')).map(([r, missing]): [unknown, string] => [{ ...r, [missing]: undefined }, `rateLimit.${missing}`]),
  fc.tuple(goodRate, unknownName(['max', 'perMs', 'key'])).map(([r, extra]): [unknown, string] => [{ ...r, [extra]: 1 }, `rateLimit.${extra}`]),
);

/** A bad `concurrency` and the field its error must name. */
const badCap: fc.Arbitrary<[unknown, string]> = fc.oneof(
  notAnObject.map((v): [unknown, string] => [v, 'concurrency']),
  fc.tuple(goodCap, badCount(100_000)).map(([c, perKey]): [unknown, string] => [{ ...c, perKey }, 'concurrency.perKey']),
  fc.tuple(goodCap, badKey).map(([c, key]): [unknown, string] => [{ ...c, key }, 'concurrency.key']),
  fc.tuple(goodCap, fc.constantFrom('perKey', 'key')).map(([c, missing]): [unknown, string] => [{ ...c, [missing]: undefined }, `concurrency.${missing}`]),
  fc.tuple(goodCap, unknownName(['perKey', 'key'])).map(([c, extra]): [unknown, string] => [{ ...c, [extra]: 1 }, `concurrency.${extra}`]),
);

/** Builds a worker (never started); returns the ValidationError's field, or null when it was accepted. */
function refusedField(options: Record<string, unknown>, functionOptions: Record<string, unknown>): string | null {
  try {
    createWorker({ store: ns.store, broker, functions: { [FUNCNAME]: { handler: () => null, ...functionOptions } }, ...options });
    return null;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return err.field;
  }
}

/** Nothing started: no consumer, no flow-control call, the job waiting unclaimed with its message queued. */
async function nothingStarted(): Promise<void> {
  expect(broker.consumers).toBe(0);
  expect(flowControl.calls).toBe(0);
  expect(await broker.queueDepth(FUNCNAME)).toBe(1);
  expect(await ns.store.getJob(jobId)).toMatchObject({ state: 'ready', attempts: 0, failures: 0 });
}

describe('flow-control options, property-based', () => {
  it('refuses a bad rateLimit, naming its field', async () => {
    fc.assert(
      fc.property(badRate, fc.option(goodCap, { nil: undefined }), ([rateLimit, field], concurrency) => {
        expect(refusedField({ flowControl }, { rateLimit, ...(concurrency ? { concurrency } : {}) })).toBe(`functions.${FUNCNAME}.${field}`);
      }),
      { numRuns: 300 },
    );
    await nothingStarted();
  });

  it('refuses a bad concurrency, naming its field', async () => {
    fc.assert(
      fc.property(badCap, fc.option(goodRate, { nil: undefined }), ([concurrency, field], rateLimit) => {
        expect(refusedField({ flowControl }, { concurrency, ...(rateLimit ? { rateLimit } : {}) })).toBe(`functions.${FUNCNAME}.${field}`);
      }),
      { numRuns: 300 },
    );
    await nothingStarted();
  });

  it('refuses a flowFailOpen that is not true or false, naming it', async () => {
    // What an environment or a config file might hand over for a boolean, as well as anything at all.
    const notBoolean = fc.oneof(fc.constantFrom('true', 'false', 'yes', 'no', '1', '0', '', 0, 1, null), fc.anything().filter((v) => v !== undefined && typeof v !== 'boolean'));
    fc.assert(
      fc.property(notBoolean, fc.oneof(goodRate.map((rateLimit) => ({ rateLimit })), goodCap.map((concurrency) => ({ concurrency })), fc.constant({})), (flowFailOpen, limits) => {
        expect(refusedField({ flowControl, flowFailOpen }, limits)).toBe('flowFailOpen');
      }),
    );
    await nothingStarted();
  });

  it('refuses good limits without a flowControl, naming it', async () => {
    const limits = fc.oneof(goodRate.map((rateLimit) => ({ rateLimit })), goodCap.map((concurrency) => ({ concurrency })));
    fc.assert(fc.property(limits, (l) => void expect(refusedField({}, l)).toBe('flowControl')));
    await nothingStarted();
  });

  it('accepts good values generated the same way (the refusals above are the bad values\' doing)', async () => {
    fc.assert(
      fc.property(fc.option(goodRate, { nil: undefined }), fc.option(goodCap, { nil: undefined }), fc.option(fc.boolean(), { nil: undefined }), (rateLimit, concurrency, flowFailOpen) => {
        const fn = { ...(rateLimit ? { rateLimit } : {}), ...(concurrency ? { concurrency } : {}) };
        expect(refusedField({ flowControl, ...(flowFailOpen === undefined ? {} : { flowFailOpen }) }, fn)).toBeNull();
      }),
    );
    // Built, never started: still nothing consumed or asked.
    await nothingStarted();
  });
});
