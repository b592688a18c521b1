/**
 * The language's conformance suite on the real runtime: every JCL file in conformance/ is loaded
 * (parsed, checked, compiled) and stored, and each case of cases.json runs as a workflow job on
 * PostgreSQL and RabbitMQ, its actions served by a real worker, its steps taken by the engine with
 * the built-in step machine. A case states the expected output, or the error's class and text.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PermanentFailure, type Json } from '@drover/core';
import { waitFor } from '@drover/testing';
import { createEvaluator, createMachine, createSandbox, createTypeChecker, loadJcl } from '../src/index.js';
import { useEngineHarness } from './harness.js';

const h = useEngineHarness();
const { ns } = h;
const dir = new URL('./conformance/', import.meta.url);

interface Case {
  readonly workflow: string;
  readonly input: Json;
  readonly output?: Json;
  readonly error?: { readonly class?: string; readonly message: string };
}

type Arg = { [key: string]: Json };
const text = (value: Json | undefined): string => (typeof value === 'string' ? value : JSON.stringify(value));
const num = (value: Json | undefined): number => (typeof value === 'number' ? value : Number(value));

/** The actions the conformance files declare (actions.ac, greeter.ac). */
const actions = {
  add: (arg: Arg) => ({ counter: num(arg.counter) + num(arg.step ?? 1) }),
  fail: (arg: Arg) => {
    throw new PermanentFailure(text(arg.msg));
  },
  echo: (arg: Arg) => ({ value: arg.value ?? null }),
  greet_en: (arg: Arg) => ({ greeting: `Hello ${text(arg.name)}` }),
  greet_nl: (arg: Arg) => ({ greeting: `Hallo ${text(arg.name)}` }),
};

/**
 * A split of 100 callflows of childflow (conformance/childflow.wf), child i given `input + i`, each
 * output appended in the split's order: too long to keep as a file, so written here.
 */
const SPLIT_100 = `workflow split100:
in:
	input number
out:
	outputs array
wfomap:
	<outputs>
do:
	eval:
		outputs = array()
	split:
${Array.from({ length: 100 }, (_, i) => `\t\tcallflow childflow:\n\t\t\tinput = a.input + ${i}\n\t\tinto:\n\t\t\toutputs ,= o.output\n`).join('')}`;

function cases(): Case[] {
  const listed = (JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as { cases: Case[] }).cases;
  // map over 100 children, each output collected in element order.
  const input = Array.from({ length: 100 }, (_, i) => i * 10);
  const outputs = input.map((v, i) => v + i);
  return [
    ...listed,
    { workflow: 'maptest', input: { input }, output: { outputs, total: outputs.reduce((a, b) => a + b, 0) } },
    { workflow: 'split100', input: { input: 1000 }, output: { outputs: Array.from({ length: 100 }, (_, i) => `child ${1000 + i}`) } },
  ];
}

describe('JCL conformance on PostgreSQL and RabbitMQ', () => {
  it('runs every case of every statement and operator to its expected output or error', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.wf') || f.endsWith('.ac')).sort();
    const sources = [...files.map((f) => ({ fileName: f, text: readFileSync(new URL(f, dir), 'utf8') })), { fileName: 'split100.wf', text: SPLIT_100 }];
    const units = loadJcl(sources, {
      stored: { lookup: () => null },
      types: createTypeChecker({}),
    });
    await h.saveUnits(units);
    await h.startRelay();
    await h.startWorker({
      functions: Object.fromEntries(Object.entries(actions).map(([name, fn]) => [name, { handler: (job: { arg: unknown }) => fn(job.arg as Arg), maxRetries: 0, slots: 16 }])),
    });
    const types = createTypeChecker({});
    const machine = createMachine({ evaluator: createEvaluator({ sandbox: createSandbox(), types }), types });
    await h.startEngine(machine);

    const all = cases();
    const ids = (await ns.store.insertMany(all.map((c) => ({ funcname: c.workflow, arg: c.input })))).map((r) => r.id);
    const failures: string[] = [];
    for (const [i, c] of all.entries()) {
      const job = await waitFor(h.finished(ids[i]!), { what: `${c.workflow} ${JSON.stringify(c.input).slice(0, 60)} to finish`, timeoutMs: 40_000 });
      const label = `${c.workflow} ${JSON.stringify(c.input).slice(0, 80)}`;
      if (c.output !== undefined) {
        if (job.state !== 'completed' || !isDeepStrictEqual(job.result, c.output)) {
          failures.push(`${label}: expected ${JSON.stringify(c.output)}, got ${job.state} ${JSON.stringify(job.result)} ${job.failureLog.at(-1)?.error ?? ''}`);
        }
      } else {
        const error = job.failureLog.at(-1)?.error ?? '';
        const parsed = (() => {
          try {
            return JSON.parse(error) as { class?: string };
          } catch {
            return {};
          }
        })();
        if (job.state !== 'failed' || !error.includes(c.error!.message) || (c.error!.class !== undefined && parsed.class !== c.error!.class)) {
          failures.push(`${label}: expected error ${JSON.stringify(c.error)}, got ${job.state} ${error} ${JSON.stringify(job.result)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
