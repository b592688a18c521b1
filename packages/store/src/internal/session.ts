/** Helpers for the connections Drover keeps outside the pool (LISTEN, leader election). */
import type pg from 'pg';

/**
 * Ends a session of our own without hearing about it: its 'end' listener would take the end for a
 * lost connection and reconnect, and an error from a connection that is already gone means nothing.
 */
export async function endSession(client: pg.Client | null | undefined): Promise<void> {
  if (!client) return;
  client.removeAllListeners('end');
  await client.end().catch(() => undefined);
}
