/**
 * Leader election on PostgreSQL: a session advisory lock on a connection of its own. The lock
 * lives exactly as long as the session, so a leader that dies or loses its connection frees it at
 * once (or, if its host vanished without a word, once TCP keepalive gives up: ~11 s), and a
 * follower trying every `retryMs` takes over within that interval. The leader pings
 * its session at the same pace, so a connection that died quietly costs at most one interval of
 * believing it still leads; that is harmless, since two relays at once only publish duplicates.
 */
import pg from 'pg';
import { silentLogger, type Leadership, type Logger } from '@drover/core';
import { endSession } from './session.js';
import { SQL } from './statements.js';

/** The shortest time a ping may take before the session counts as dead: a slow moment is not a dead database. */
const MIN_QUERY_TIMEOUT_MS = 5_000;

export interface LeadershipOptions {
  /** How often a follower tries to take the lead, and a leader checks its session. */
  retryMs: number;
  onChange?: (leading: boolean) => void;
  logger?: Logger;
}

/** Takes part in the election for `name` on the database (and schema) of `config`. */
export async function holdLeadership(config: pg.ClientConfig, name: string, options: LeadershipOptions): Promise<Leadership> {
  const logger = options.logger ?? silentLogger;
  let client: pg.Client | null = null;
  let leading = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();

  const setLeading = (value: boolean): void => {
    if (leading === value) return;
    leading = value;
    logger.info({ election: name }, value ? 'took the lead' : 'stopped leading');
    options.onChange?.(value);
  };

  /** Drops a session: its lock is gone with it (or will be, once the server notices). */
  const drop = (dead: pg.Client, err?: Error): void => {
    if (client !== dead) return;
    client = null;
    if (err) logger.warn({ election: name, err: err.message }, 'election connection lost');
    setLeading(false);
    endSession(dead).catch((err: unknown) => logger.warn({ election: name, err: (err as Error).message }, 'ending an election session failed'));
  };

  const attempt = async (): Promise<void> => {
    if (closed) return;
    try {
      if (!client) {
        // `config` carries the store's session settings (internal/timeouts.ts): TCP keepalives on
        // both ends, so the server drops the lock of a leader whose host vanished (no FIN, no RST)
        // within about 11 s, not the system's two hours. Only the query timeout is the election's:
        // a ping that hangs is a session we cannot trust, so fail it sooner, drop the session, try again.
        const next = new pg.Client({ ...config, query_timeout: Math.min(config.query_timeout ?? Infinity, Math.max(options.retryMs * 5, MIN_QUERY_TIMEOUT_MS)) });
        next.on('error', (err) => drop(next, err));
        next.on('end', () => drop(next));
        client = next;
        await next.connect();
      }
      const session = client;
      if (leading) await session.query('SELECT 1');
      else {
        const { rows } = await session.query<{ leading: boolean }>({ name: SQL.tryLead.name, text: SQL.tryLead.text, values: [name] });
        if (client === session && rows[0]?.leading) setLeading(true);
      }
    } catch (err) {
      if (client) drop(client, err as Error);
    }
  };

  const loop = (): void => {
    round = attempt().finally(() => {
      if (!closed) timer = setTimeout(loop, options.retryMs);
    });
  };
  loop();
  await round;

  return {
    get leading() {
      return leading;
    },
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await round;
      const c = client;
      client = null;
      setLeading(false);
      // Ending the session releases the lock, so a follower takes over on its next try.
      await endSession(c);
    },
  };
}
