/**
 * Netstring framing (`<length>:<bytes>,`), the framing of JobCenter's TCP and TLS transports. The
 * decoder is strict, because a lenient one would disagree with the peer about where a frame ends:
 * the length is decimal digits without leading zeros (`0` alone is the empty frame), and the byte
 * after the payload must be `,`. Anything else is a {@link NetstringError}, after which the stream
 * has no trustworthy frame boundary left and the connection must close.
 */

/**
 * The largest payload the decoder accepts: 1 MiB. JobCenter's own server allows 999,999 bytes, so
 * every message its clients send fits; a bound at all keeps one connection from making the server
 * buffer without end, since a frame is held whole until its comma arrives.
 */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/** A malformed or oversized frame: the stream cannot be read on from here. */
export class NetstringError extends Error {
  override readonly name = 'NetstringError';
}

/** Frames one payload (a UTF-8 string, or bytes as they are). */
export function encodeNetstring(payload: string | Uint8Array): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  return Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body, Buffer.from(',', 'ascii')]);
}

/**
 * A streaming decoder: feed it chunks as they arrive, in any split, and it returns the payloads
 * completed by each. After it throws, it stays broken (every later push throws too).
 */
export class NetstringDecoder {
  readonly #maxBytes: number;
  #state: 'length' | 'body' | 'comma' | 'broken' = 'length';
  #length = 0;
  #digits = 0;
  #remaining = 0;
  /**
   * The frame's payload, allocated once at its declared length when it does not arrive whole in
   * one chunk, and filled as chunks come: a peer that sends a frame a byte at a time costs one
   * buffer, not one slice (and one retained chunk) per byte.
   */
  #body: Buffer | null = null;
  #filled = 0;

  constructor(maxBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a whole number, got ${maxBytes}`);
    this.#maxBytes = maxBytes;
  }

  /** Whether a frame has begun and not ended: a stream that ends here was cut mid-frame. */
  get midFrame(): boolean {
    return this.#state !== 'length' || this.#digits > 0;
  }

  /** Consumes a chunk; returns the payloads it completed, in order. Throws {@link NetstringError}. */
  push(chunk: Uint8Array): Buffer[] {
    if (this.#state === 'broken') throw new NetstringError('the stream already held a malformed frame');
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: Buffer[] = [];
    let i = 0;
    try {
      while (i < bytes.length) {
        if (this.#state === 'length') {
          i = this.#readLength(bytes, i);
        } else if (this.#state === 'body') {
          const take = Math.min(this.#remaining, bytes.length - i);
          if (this.#body === null) this.#body = Buffer.allocUnsafe(this.#length);
          bytes.copy(this.#body, this.#filled, i, i + take);
          this.#filled += take;
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#state = 'comma';
        } else {
          if (bytes[i] !== COMMA) throw new NetstringError(`expected "," after a ${this.#length}-byte payload, got byte ${bytes[i]}`);
          i += 1;
          frames.push(this.#body ?? Buffer.alloc(0));
          this.#reset();
        }
      }
    } catch (err) {
      this.#state = 'broken';
      this.#body = null;
      throw err;
    }
    return frames;
  }

  /** Reads length digits up to the colon; returns the next index. */
  #readLength(bytes: Buffer, start: number): number {
    let i = start;
    while (i < bytes.length) {
      const byte = bytes[i]!;
      if (byte === COLON) {
        if (this.#digits === 0) throw new NetstringError('a frame must start with its length in decimal digits, got ":"');
        this.#state = this.#length === 0 ? 'comma' : 'body';
        this.#remaining = this.#length;
        return i + 1;
      }
      if (byte < ZERO || byte > NINE) throw new NetstringError(`a frame's length must be decimal digits, got byte ${byte}`);
      if (this.#digits === 1 && this.#length === 0) throw new NetstringError("a frame's length must not have a leading zero");
      this.#length = this.#length * 10 + (byte - ZERO);
      this.#digits += 1;
      // Checked per digit, so a peer cannot make us read an endless length either.
      if (this.#length > this.#maxBytes) throw new NetstringError(`a frame of more than ${this.#maxBytes} bytes is refused`);
      i += 1;
    }
    return i;
  }

  #reset(): void {
    this.#state = 'length';
    this.#length = 0;
    this.#digits = 0;
    this.#remaining = 0;
    this.#body = null;
    this.#filled = 0;
  }
}
