/**
 * Throwaway certificates for the TLS tests, made with the openssl CLI: a CA, a server certificate
 * for 127.0.0.1 signed by it, a client certificate (CN `worker-1`) signed by it, and a self-signed
 * client certificate (CN `alice`) that the CA does not vouch for.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  rogue: { cert: string; key: string };
}

/** Small EC keys: made in milliseconds, unlike RSA. */
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'drover-tls-'));
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  try {
    openssl('req', '-x509', ...EC, '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '2', '-subj', '/CN=drover-test-ca');
    writeFileSync(at('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    const signed = (name: string, cn: string, ext?: string): void => {
      openssl('req', ...EC, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${cn}`);
      openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at(`${name}.crt`), '-days', '2', ...(ext ? ['-extfile', at(ext)] : []));
    };
    signed('server', 'localhost', 'server.ext');
    signed('client', 'worker-1');
    openssl('req', '-x509', ...EC, '-keyout', at('rogue.key'), '-out', at('rogue.crt'), '-days', '2', '-subj', '/CN=alice');
    const read = (name: string): string => readFileSync(at(name), 'utf8');
    return {
      ca: read('ca.crt'),
      server: { cert: read('server.crt'), key: read('server.key') },
      client: { cert: read('client.crt'), key: read('client.key') },
      rogue: { cert: read('rogue.crt'), key: read('rogue.key') },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
