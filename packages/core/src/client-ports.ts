/** The API clients' port: who may call the API, and the registry that keeps them. */

/**
 * An API client as the store keeps it, without its token hash: who it is and what it may do.
 * Scopes are glob patterns on function names (`report.*`, `*`); see `authorizes`.
 */
export interface ApiClient {
  /** Its unique name; JobCenter's `hello` sends it as `who`. */
  who: string;
  /** Functions it may call (enqueue, and read or cancel its jobs). */
  call: string[];
  /** Functions it may work (announce as a remote worker). */
  work: string[];
  /** May administer: every job, the counts, the other clients. */
  admin: boolean;
  /** A client certificate with this CN authenticates as this client (TLS transport). */
  certificateCn: string | null;
  createdAt: Date;
  /** When its token was last replaced; null when never. */
  rotatedAt: Date | null;
}

/** What `ApiClientStore.add` takes. Omitted scopes are empty: the client may do nothing. */
export interface NewApiClient {
  who: string;
  /** The token to accept; omitted, a random one is generated (and returned once). */
  token?: string;
  call?: readonly string[];
  work?: readonly string[];
  admin?: boolean;
  certificateCn?: string | null;
}

/** A client and its token, in the clear: returned only by add and rotate, and never kept. */
export interface IssuedToken {
  client: ApiClient;
  token: string;
}

/**
 * The registry of API clients of one namespace (the port of whoever authenticates callers or
 * administers them). Tokens are kept only as slow hashes; nothing here ever returns one.
 */
export interface ApiClientStore {
  /** Registers a client; refuses a bad or taken `who`, a bad pattern or a taken CN, naming the field, writing nothing. */
  add(input: NewApiClient): Promise<IssuedToken>;
  /** Every client, by name. */
  list(): Promise<ApiClient[]>;
  /** Removes a client; false when there was none by that name. */
  remove(who: string): Promise<boolean>;
  /** Gives the client a new token (random, or the given one); the old one stops working at once. Null when unknown. */
  rotate(who: string, token?: string): Promise<IssuedToken | null>;
  /**
   * The client when `token` is its current token, else null. Costs one slow hash whether the
   * client exists or not, and compares in constant time, so neither timing nor answer tells an
   * unknown name from a wrong token.
   */
  verifyToken(who: string, token: string): Promise<ApiClient | null>;
  /** The client a certificate with this CN stands for, or null. */
  byCertificateCn(cn: string): Promise<ApiClient | null>;
}
