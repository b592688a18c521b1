/**
 * A benchmark worker process: runs one system's worker with the given concurrency and reports
 * handler start latencies (enqueue → start, ms) to the parent over IPC every 50 ms.
 * argv: <system> <concurrency>; the servers come in BENCH_SERVERS (JSON), and a rate limit for the
 * worker, if any, in BENCH_RATE_LIMIT (JSON).
 */
import { wallClockMs, type BenchPayload, type BenchRateLimit, type BenchServers, type BenchSystem } from './system.js';

const [name, concurrencyText] = process.argv.slice(2);
const servers = JSON.parse(process.env.BENCH_SERVERS ?? '{}') as BenchServers;
const rateLimit = process.env.BENCH_RATE_LIMIT ? (JSON.parse(process.env.BENCH_RATE_LIMIT) as BenchRateLimit) : undefined;
const { system } = (await import(`./systems/${name}.js`)) as { system: BenchSystem };
/** Reporting in 50 ms batches keeps IPC overhead far below the handlers' own. */
const REPORT_EVERY_MS = 50;

let latencies: number[] = [];
const flush = (): void => {
  // A benchmark that died (a stuck peer's run throws) leaves no one to report to.
  if (latencies.length === 0 || !process.connected) return;
  process.send!({ type: 'starts', latencies });
  latencies = [];
};
const timer = setInterval(flush, REPORT_EVERY_MS);

const worker = await system.worker(servers, Number(concurrencyText), (payload: BenchPayload) => {
  latencies.push(wallClockMs() - payload.t);
}, rateLimit);
process.send!({ type: 'ready' });

// Without its benchmark this process has no purpose: it must not outlive it as an orphan.
process.on('disconnect', () => process.exit(1));

process.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  void (async () => {
    await worker.stop();
    flush();
    clearInterval(timer);
    process.send!({ type: 'stopped' }, () => process.exit(0));
  })().catch((err: unknown) => {
    // The parent waits for 'stopped' or this process's exit: exiting with a failure status tells it.
    process.stderr.write(`bench worker: stopping failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
});
