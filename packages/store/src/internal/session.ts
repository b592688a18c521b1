/** Helpers for the connections Drover keeps outside the pool (LISTEN, leader election). */
import type pg from 'pg';

/**
 * A clean end (Terminate, then the server closes) takes a round trip; past this the peer is
 * silent (a cut network) and waiting longer would only hold up `close()`.
 */
const END_TIMEOUT_MS = 1_000;

/**
 * Ends a session of our own without hearing about it: its 'end' listener would take the end for a
 * lost connection and reconnect, and an error from a connection that is already gone means nothing.
 * A session whose peer does not answer within {@link END_TIMEOUT_MS} has its socket destroyed.
 */
export async function endSession(client: pg.Client | null | undefined): Promise<void> {
  if (!client) return;
  client.removeAllListeners('end');
  // Errors from here on belong to a session we are done with; without a listener they would be unhandled.
  client.removeAllListeners('error');
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const ended = client.end().catch(() => undefined);
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.connection.stream.destroy();
      resolve();
    }, END_TIMEOUT_MS);
  });
  await Promise.race([ended, late]);
  clearTimeout(timer);
}
