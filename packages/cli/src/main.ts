/**
 * The `drover` command. Parses the command line, reads the environment once (configFromEnv), runs
 * the command, and turns errors into a message and an exit status: 2 for bad input (naming the
 * field or variable), 1 for anything else.
 */
import { Command, CommanderError } from 'commander';
import { ValidationError } from '@drover/core';
import { configFromEnv, type Config } from './config.js';
import { cancelCommand, enqueueCommand, jobsCommand, type EnqueueFlags, type JobsFlags, migrateCommand, rescheduleCommand, retryCommand, showCommand, statsCommand } from './commands/jobs.js';
import { benchCommand } from './commands/bench.js';
import { addClientCommand, listClientsCommand, removeClientCommand, rotateClientCommand, type AddClientFlags } from './commands/clients.js';
import { raiseEventCommand, type RaiseFlags } from './commands/events.js';
import {
  addTriggerCommand,
  enableTriggerCommand,
  launchTriggerCommand,
  listTriggersCommand,
  removeTriggerCommand,
  showTriggerCommand,
  type AddTriggerFlags,
  type ListTriggersFlags,
} from './commands/triggers.js';
import { workersCommand } from './commands/workers.js';
import { callCommand, listWorkflowsCommand, loadWorkflowsCommand, showWorkflowCommand, type CallFlags } from './commands/workflows.js';

/**
 * The long-running commands are loaded when run: they bring the embedded database (PGlite), the
 * worker and the scheduler, which a `drover jobs` or `drover clients add` would otherwise load on
 * every call (about a fifth of a short command's start-up here).
 */
const dev = () => import('./commands/dev.js');
const services = () => import('./commands/services.js');

function program(env: NodeJS.ProcessEnv, setExit: (code: number) => void): Command {
  const config = (): Config => configFromEnv(env);
  const cmd = new Command('drover')
    .description('A reliable, distributed job system: PostgreSQL is the truth, RabbitMQ dispatches.')
    .exitOverride()
    .showHelpAfterError();

  cmd.command('dev').description('run everything in one process with a demo: embedded without DATABASE_URL and AMQP_URL, on the real services with them')
    .option('--json', 'print the demo summary as JSON instead of the live view').option('--no-demo', 'start without the demo')
    .action(async (o: { json?: boolean; demo: boolean }) => (await dev()).devCommand(config(), { json: Boolean(o.json), demo: o.demo }));
  cmd.command('bench').description('run the benchmark against pg-boss, graphile-worker and BullMQ (same options as npm run bench)')
    .allowUnknownOption().helpOption(false).argument('[options...]')
    .action(async (args: string[]) => setExit(await benchCommand(args)));
  cmd.command('migrate').description('apply migrations to the namespace').option('--json', 'machine output')
    .action((o: { json?: boolean }) => migrateCommand(config(), Boolean(o.json)));
  cmd.command('up').description('run the controller and the scheduler in one process')
    .action(async () => (await services()).runServices(config(), { controller: true, scheduler: true }));
  cmd.command('controller').description('run the controller: relay and HTTP API')
    .action(async () => (await services()).runServices(config(), { controller: true, scheduler: false }));
  cmd.command('scheduler').description('run the scheduler: due jobs, expired leases, trimming')
    .action(async () => (await services()).runServices(config(), { controller: false, scheduler: true }));
  cmd.command('worker').description('run a worker for the handlers a module exports').argument('<module>', 'a module exporting `functions`')
    .action(async (module: string) => (await services()).runWorker(config(), module));
  cmd.command('enqueue').description('enqueue a job').argument('<funcname>').argument('[arg]', 'the argument, as JSON')
    .option('--uniqkey <key>').option('--run-after <iso8601>').option('--priority <n>').option('--coalesce <value>')
    .option('--max-retries <n>').option('--timeout-ms <ms>').option('--json', 'machine output')
    .option('--idempotency-key <key>', 'run again with the same key, this enqueue returns the first job instead of a new one')
    // Commander hands options untyped; these shapes are the options declared just above.
    .action((funcname: string, arg: string | undefined, o: EnqueueFlags) => enqueueCommand(config(), funcname, arg, o));
  cmd.command('jobs').description('list jobs, newest first')
    .option('--state <state...>', 'only these states').option('--funcname <name>').option('--arg <json>', 'arg contains this JSON')
    .option('--limit <n>', 'at most n (default 50)').option('--before <id>', 'only ids below this (paging)').option('--json', 'machine output')
    .action((o: JobsFlags) => jobsCommand(config(), o));
  cmd.command('show').description('show a job with its failure log').argument('<id>').option('--json', 'machine output')
    .action(async (id: string, o: { json?: boolean }) => setExit(await showCommand(config(), id, Boolean(o.json))));
  cmd.command('retry').description('put a failed or cancelled job back to ready').argument('<id>').option('--json', 'machine output')
    .action(async (id: string, o: { json?: boolean }) => setExit(await retryCommand(config(), id, Boolean(o.json))));
  cmd.command('reschedule').description("move a waiting job: 'never', '+N' seconds, or an ISO 8601 time").argument('<id>').argument('<when>')
    .option('--json', 'machine output')
    .action(async (id: string, when: string, o: { json?: boolean }) => setExit(await rescheduleCommand(config(), id, when, Boolean(o.json))));
  cmd.command('cancel').description('cancel a live job').argument('<id>').option('--json', 'machine output')
    .action(async (id: string, o: { json?: boolean }) => setExit(await cancelCommand(config(), id, Boolean(o.json))));
  cmd.command('workers').description('list the live workers (presence: REDIS_URL, or the embedded instance)').option('--json', 'machine output')
    .action((o: { json?: boolean }) => workersCommand(config(), Boolean(o.json)));
  cmd.command('stats').description('count jobs per function and state').option('--json', 'machine output')
    .action((o: { json?: boolean }) => statsCommand(config(), Boolean(o.json)));
  const events = cmd.command('events').description('raise events, which fire the @event triggers they match');
  events.command('raise').description('raise an event: TYPE (e.g. io.cozy.files), VERB (CREATED, UPDATED or DELETED), DOC (the document, JSON with _id or id)')
    .argument('<type>').argument('<verb>').argument('<doc>', 'the document, as JSON')
    .option('--old-doc <json>', 'the document before the change (UPDATED)').option('--json', 'machine output')
    .action((type: string, verb: string, doc: string, o: RaiseFlags) => raiseEventCommand(config(), type, verb, doc, o));
  const clients = cmd.command('clients').description('manage the API clients (who may call, work or administer through the API)');
  const collect = (value: string, previous: string[]): string[] => [...previous, value];
  clients.command('add').description('add a client and print its token, once').argument('<name>')
    .option('--token <token>', 'accept this token instead of generating one (e.g. one a JobCenter client already uses)')
    .option('--call <pattern>', 'functions it may call (a glob, e.g. report.*); repeatable', collect, [])
    .option('--work <pattern>', 'functions it may work as a remote worker; repeatable', collect, [])
    .option('--admin', 'it may administer: every job, the counts, the clients').option('--cn <cn>', 'a client certificate with this CN authenticates as it')
    .option('--json', 'machine output')
    .action((who: string, o: AddClientFlags) => addClientCommand(config(), who, o));
  clients.command('list').description('list the clients and their scopes (never their tokens)').option('--json', 'machine output')
    .action((o: { json?: boolean }) => listClientsCommand(config(), Boolean(o.json)));
  clients.command('rm').description('remove a client; its token stops working').argument('<name>').option('--json', 'machine output')
    .action(async (who: string, o: { json?: boolean }) => setExit(await removeClientCommand(config(), who, Boolean(o.json))));
  clients.command('rotate').description('give a client a new token and print it, once; the old one stops working').argument('<name>')
    .option('--token <token>', 'use this token instead of generating one').option('--json', 'machine output')
    .action(async (who: string, o: { token?: string; json?: boolean }) => setExit(await rotateClientCommand(config(), who, o)));
  const triggers = cmd.command('triggers').description('manage triggers: rules that create jobs on time, on demand or on events (docs/triggers.md)');
  triggers.command('add').description("add a trigger, e.g. drover triggers add '@cron 0 0 3 * * *' report.nightly '{\"full\":true}'")
    .argument('<spec>', '@at <ISO 8601>, @in <duration>, @every <duration>, @cron <spec>, @hourly, @daily, @weekly, @monthly, @event <selector>, @webhook, @client')
    .argument('<funcname>', 'the function of the jobs it creates').argument('[arg]', 'their argument, as JSON')
    .option('--priority <n>', 'their priority, -100 to 100').option('--max-retries <n>', 'their retries before failing for good')
    .option('--timeout-ms <ms>', 'how long one attempt may run').option('--uniqkey <key>', 'at most one live job of the trigger at a time')
    .option('--debounce <duration>', '@event and @webhook: gather a burst into one job, e.g. 30s')
    .option('--time-zone <zone>', 'the IANA time zone of a cron spec (default UTC)')
    .option('--catch-up <policy>', 'after downtime: one (default), all or none').option('--disabled', 'add it disabled')
    .option('--json', 'machine output: the trigger, with a webhook trigger\'s url')
    .action((spec: string, funcname: string, arg: string | undefined, o: AddTriggerFlags) => addTriggerCommand(config(), spec, funcname, arg, o));
  triggers.command('list').description('list triggers, newest first').option('--funcname <name>').option('--limit <n>', 'at most n (default 100)')
    .option('--before <id>', 'only ids below this (paging)').option('--json', 'machine output')
    .action((o: ListTriggersFlags) => listTriggersCommand(config(), o));
  triggers.command('show').description('show a trigger, its state and its latest jobs').argument('<id>').option('--json', 'machine output')
    .action(async (id: string, o: { json?: boolean }) => setExit(await showTriggerCommand(config(), id, Boolean(o.json))));
  triggers.command('rm').description('delete a trigger; the jobs it created run on').argument('<id>').option('--json', 'machine output')
    .action(async (id: string, o: { json?: boolean }) => setExit(await removeTriggerCommand(config(), id, Boolean(o.json))));
  triggers.command('launch').description('create one of its jobs now, whatever its type').argument('<id>').option('--json', 'machine output')
    .action(async (id: string, o: { json?: boolean }) => setExit(await launchTriggerCommand(config(), id, Boolean(o.json))));
  triggers.command('enable').description('enable a trigger (a recurring one is scheduled from now)').argument('<id>').option('--json', 'machine output')
    .action(async (id: string, o: { json?: boolean }) => setExit(await enableTriggerCommand(config(), id, true, Boolean(o.json))));
  triggers.command('disable').description('disable a trigger: it no longer fires on time').argument('<id>').option('--json', 'machine output')
    .action(async (id: string, o: { json?: boolean }) => setExit(await enableTriggerCommand(config(), id, false, Boolean(o.json))));
  const workflows = cmd.command('workflows').description("manage workflow units: JobCenter's workflow language (docs/workflows.md)");
  workflows.command('load').description('compile files of workflows, actions, procedures and interfaces (and save NAME.schema.json files as named JSON Schemas), and save every unit as its next version: all or none')
    .argument('<file...>').option('--tag <tag>', 'save the units as versions carrying this tag: only jobs asking for it run them')
    .option('--json', 'machine output')
    .action(async (files: string[], o: { tag?: string; json?: boolean }) => setExit(await loadWorkflowsCommand(config(), files, o)));
  workflows.command('list').description('list the units: per name, the newest default version (with --tag: the newest carrying the tag, else the default)')
    .option('--tag <tag>', 'the versions a job asking for this tag runs').option('--json', 'machine output')
    .action((o: { tag?: string; json?: boolean }) => listWorkflowsCommand(config(), o));
  workflows.command('show').description('show a unit as list picks it: its signature and source').argument('<name>')
    .option('--tag <tag>', 'the version a job asking for this tag runs').option('--json', 'machine output')
    .action(async (name: string, o: { tag?: string; json?: boolean }) => setExit(await showWorkflowCommand(config(), name, o)));
  cmd.command('call').description('enqueue a job of a function (a workflow or any function) and wait for its outcome')
    .argument('<name>').argument('[arg]', 'the argument, as JSON').option('--timeout-ms <ms>', 'stop waiting after this long (default 30000); the job goes on')
    .option('--tag <tag>', 'a workflow: run the newest version carrying this tag, else the newest default')
    .option('--json', 'machine output')
    .action(async (name: string, arg: string | undefined, o: CallFlags) => setExit(await callCommand(config(), name, arg, o)));
  return cmd;
}

/** Runs the command line; resolves with the exit status. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let code = 0;
  try {
    await program(env, (c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ValidationError) {
      process.stderr.write(`drover: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`drover: ${(err as Error).message}\n`);
    return 1;
  }
}
