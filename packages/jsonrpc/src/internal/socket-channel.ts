/**
 * A {@link MessageChannel} over a TCP or TLS socket, framed with netstrings. A malformed or
 * oversized frame destroys the socket at once: there is no frame boundary left to answer after.
 */
import type { Socket } from 'node:net';
import type { ChannelListener, MessageChannel, TransportKind } from '../channel.js';
import { NetstringDecoder, encodeNetstring } from '../netstring.js';
import { decodeUtf8 } from './utf8.js';

export interface SocketChannelOptions {
  transport: TransportKind;
  maxFrameBytes: number;
  /** What may wait unsent for a peer that does not read; past it the connection is dropped. */
  maxBufferedBytes: number;
  /** How long close() waits for the peer to take what was sent before cutting it off. */
  closeGraceMs: number;
  certificateCn?: string | undefined;
}

export function createSocketChannel(socket: Socket, options: SocketChannelOptions): MessageChannel {
  const decoder = new NetstringDecoder(options.maxFrameBytes);
  let listener: ChannelListener | null = null;
  let closing = false;
  let closeReason: string | null = null;

  const destroy = (reason: string): void => {
    closeReason ??= reason;
    socket.destroy();
  };

  socket.setNoDelay(true);
  socket.on('error', (err) => {
    closeReason ??= `socket error: ${err.message}`;
  });
  socket.on('close', () => {
    listener?.close(closeReason ?? (decoder.midFrame ? 'the peer closed mid-frame' : 'the peer closed the connection'));
  });

  return {
    transport: options.transport,
    remoteAddress: socket.remoteAddress ?? 'unknown',
    certificateCn: options.certificateCn,
    listen(next) {
      if (listener) throw new Error('a channel has one listener');
      listener = next;
      socket.on('data', (chunk: Buffer) => {
        let frames: Buffer[];
        try {
          frames = decoder.push(chunk);
        } catch (err) {
          destroy(`malformed frame: ${(err as Error).message}`);
          return;
        }
        for (const frame of frames) {
          if (socket.destroyed || closing) return;
          next.message(decodeUtf8(frame));
        }
      });
    },
    send(text) {
      if (socket.destroyed || !socket.writable) return Promise.reject(new Error(`the connection is closed (${closeReason ?? 'closing'})`));
      if (socket.writableLength > options.maxBufferedBytes) {
        destroy(`the peer does not read: more than ${options.maxBufferedBytes} bytes wait unsent`);
        return Promise.reject(new Error('the peer does not read what is sent'));
      }
      return new Promise((resolve, reject) => {
        socket.write(encodeNetstring(text), (err) => (err ? reject(err) : resolve()));
      });
    },
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    close(reason) {
      if (closing || socket.destroyed) return;
      closing = true;
      closeReason ??= reason;
      // end() writes what is queued, then half-closes; a peer that never reads or never closes its
      // side is cut off after the grace, so a stop cannot hang on it.
      socket.end();
      const timer = setTimeout(() => socket.destroy(), options.closeGraceMs);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    },
  };
}
