/**
 * A JCL workflow through the command line, on the real services as separate processes: `drover
 * workflows load` compiles and saves it, `drover call` starts it and prints its output once the
 * scheduler's engine has run it and a worker has served the action it calls, and `drover show`
 * lists the workflow job's steps.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useDrover } from './harness.js';

const drover = useDrover({ funcnames: ['e2e.inc', 'e2e.cliflow'] });
const ENV = { DROVER_SCHEDULER_POLL_MS: '100' };
const SOURCE = `
action e2e.inc:
in:
	value number
out:
	value number

workflow e2e.cliflow:
in:
	value number
out:
	value number
wfomap:
	<value>
do:
	call e2e.inc:
		value = a.value
	into:
		<value>
	call e2e.inc:
		<value>
	into:
		<value>
`;

beforeAll(() => {
  drover.processes.start(['controller'], drover.env(ENV));
  drover.startWorker(ENV);
  drover.processes.start(['scheduler'], drover.env(ENV));
});

describe('workflows from the command line', () => {
  it('loads a workflow, calls it for its output, and shows its steps', async () => {
    const file = join(drover.processes.logDir, 'cliflow.wf');
    writeFileSync(file, SOURCE);
    const loaded = await drover.processes.run(['workflows', 'load', file], drover.env(ENV));
    expect(loaded).toMatchObject({ code: 0 });
    expect(loaded.stdout).toContain('e2e.cliflow  workflow  version 1');

    const called = await drover.processes.run(['call', 'e2e.cliflow', '{"value":40}', '--timeout-ms', '30000', '--json'], drover.env(ENV));
    expect(called.code).toBe(0);
    const { jobId, result } = JSON.parse(called.stdout) as { jobId: string; result: unknown };
    expect(result).toEqual({ value: 42 });

    const shown = await drover.processes.run(['show', jobId], drover.env(ENV));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('workflow steps:');
    const json = JSON.parse((await drover.processes.run(['show', jobId, '--json'], drover.env(ENV))).stdout) as { steps: { kind: string }[] };
    expect(json.steps.length).toBeGreaterThan(0);
  });
});
