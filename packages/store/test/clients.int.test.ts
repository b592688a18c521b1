/**
 * The API client registry, on PostgreSQL and (in the pglite project) on the embedded database:
 * tokens verify only while current, the hash never comes out, and bad input changes nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError, authorizes } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();

async function clientRows(): Promise<unknown[]> {
  const { rows } = await ns.pool.query<Record<string, unknown>>('SELECT * FROM api_clients ORDER BY who');
  return rows;
}

describe('API clients', () => {
  it('verifies a generated token, and refuses a wrong token and an unknown name alike', async () => {
    const { client, token } = await ns.store.clients.add({ who: 'reports', call: ['report.*'], work: ['render'] });
    expect(token).toMatch(/^drv_reports_[0-9a-f]{64}$/);
    expect(client).toMatchObject({ who: 'reports', call: ['report.*'], work: ['render'], admin: false, certificateCn: null, rotatedAt: null });
    expect(await ns.store.clients.verifyToken('reports', token)).toMatchObject({ who: 'reports', call: ['report.*'] });
    // Twice: the second answer comes from the cache of verified tokens, and must agree.
    expect(await ns.store.clients.verifyToken('reports', token)).not.toBeNull();
    expect(await ns.store.clients.verifyToken('reports', `${token}x`)).toBeNull();
    expect(await ns.store.clients.verifyToken('reports', 'wrong-token')).toBeNull();
    expect(await ns.store.clients.verifyToken('nobody', token)).toBeNull();
    expect(await ns.store.clients.verifyToken('bad name:', token)).toBeNull();
  });

  it('accepts a chosen token, and a rotation makes the old one stop working at once', async () => {
    await ns.store.clients.add({ who: 'legacy', token: 'jobcenter-secret' });
    expect(await ns.store.clients.verifyToken('legacy', 'jobcenter-secret')).not.toBeNull();
    const rotated = await ns.store.clients.rotate('legacy');
    expect(rotated?.token).toMatch(/^drv_legacy_/);
    expect(rotated?.client.rotatedAt).toBeInstanceOf(Date);
    expect(await ns.store.clients.verifyToken('legacy', 'jobcenter-secret')).toBeNull();
    expect(await ns.store.clients.verifyToken('legacy', rotated!.token)).not.toBeNull();
    const chosen = await ns.store.clients.rotate('legacy', 'another-secret');
    expect(chosen?.token).toBe('another-secret');
    expect(await ns.store.clients.verifyToken('legacy', rotated!.token)).toBeNull();
    expect(await ns.store.clients.rotate('nobody')).toBeNull();
  });

  it('lists clients without their hashes, removes them, and a removed client no longer verifies', async () => {
    const { token } = await ns.store.clients.add({ who: 'gone-soon', admin: true, certificateCn: 'gone.example' });
    const { id: jobId } = await ns.store.insertFor('gone-soon', { funcname: 'c.left-behind', arg: {} });
    const listed = await ns.store.clients.list();
    expect(listed.map((c) => c.who)).toContain('gone-soon');
    const text = JSON.stringify(listed);
    expect(text).not.toMatch(/scrypt|hash/i);
    expect(Object.keys(listed[0]!).sort()).toEqual(['admin', 'call', 'certificateCn', 'createdAt', 'rotatedAt', 'who', 'work']);
    expect(await ns.store.clients.byCertificateCn('gone.example')).toMatchObject({ who: 'gone-soon', admin: true });
    expect(await ns.store.clients.remove('gone-soon')).toBe(true);
    expect(await ns.store.clients.remove('gone-soon')).toBe(false);
    expect(await ns.store.clients.verifyToken('gone-soon', token)).toBeNull();
    expect(await ns.store.clients.byCertificateCn('gone.example')).toBeNull();
    // Its jobs stay, but a client added later under the same name does not own them.
    expect(await ns.store.getJob(jobId)).not.toBeNull();
    await ns.store.clients.add({ who: 'gone-soon' });
    expect(await ns.store.ownedBy('gone-soon', [jobId])).toEqual([]);
  });

  it('keeps the token only as an scrypt hash with its parameters', async () => {
    const { token } = await ns.store.clients.add({ who: 'hashed' });
    const { rows } = await ns.pool.query<{ token_hash: string }>("SELECT token_hash FROM api_clients WHERE who = 'hashed'");
    expect(rows[0]!.token_hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(rows[0]!.token_hash).not.toContain(token.slice(-64));
  });

  it('refuses bad input naming the field, and writes nothing', async () => {
    await ns.store.clients.add({ who: 'taken', certificateCn: 'taken.example' });
    const before = await clientRows();
    const refusals: [Parameters<typeof ns.store.clients.add>[0], string][] = [
      [{ who: 'taken' }, 'who'],
      [{ who: 'other', certificateCn: 'taken.example' }, 'certificateCn'],
      [{ who: 'has space' }, 'who'],
      [{ who: '' }, 'who'],
      [{ who: 'a:b' }, 'who'],
      [{ who: 'ok', call: ['report.['] }, 'call[0]'],
      [{ who: 'ok', work: ['fine', 'no/slash'] }, 'work[1]'],
      [{ who: 'ok', call: 'report.*' as unknown as string[] }, 'call'],
      [{ who: 'ok', token: 'short' }, 'token'],
      [{ who: 'ok', token: 'has a space in it' }, 'token'],
      [{ who: 'ok', admin: 'yes' as unknown as boolean }, 'admin'],
      [{ who: 'ok', scopes: [] } as unknown as { who: string }, 'scopes'],
    ];
    for (const [input, field] of refusals) {
      const err = await ns.store.clients.add(input).then(() => null, (e: unknown) => e);
      expect(err, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
    }
    await expect(ns.store.clients.rotate('bad name')).rejects.toMatchObject({ field: 'who' });
    await expect(ns.store.clients.rotate('taken', 'x')).rejects.toMatchObject({ field: 'token' });
    expect(await clientRows()).toEqual(before);
  });

  it('refuses any generated bad name or pattern, naming the field, with no change', async () => {
    const before = await clientRows();
    const badName = fc.string({ maxLength: 80 }).filter((s) => !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(s));
    const badPattern = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => /[^A-Za-z0-9_.:*?{},[\]^-]/.test(s));
    await fc.assert(
      fc.asyncProperty(fc.oneof(badName.map((who) => ({ input: { who }, field: 'who' })), badPattern.map((p) => ({ input: { who: 'fuzz', call: [p] }, field: 'call[0]' }))), async ({ input, field }) => {
        const err = await ns.store.clients.add(input).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field).toBe(field);
      }),
      { numRuns: 200 },
    );
    expect(await clientRows()).toEqual(before);
  });

  it('authorizes by scope patterns', async () => {
    const { client } = await ns.store.clients.add({ who: 'scoped', call: ['report.*', 'mail.{send,bounce}'], work: ['render.?'] });
    expect(authorizes(client, 'call', 'report.daily')).toBe(true);
    expect(authorizes(client, 'call', 'reports.daily')).toBe(false);
    expect(authorizes(client, 'call', 'mail.bounce')).toBe(true);
    expect(authorizes(client, 'call', 'mail.open')).toBe(false);
    expect(authorizes(client, 'work', 'render.a')).toBe(true);
    expect(authorizes(client, 'work', 'report.daily')).toBe(false);
    expect(authorizes(client, 'admin')).toBe(false);
    const { client: admin } = await ns.store.clients.add({ who: 'root', admin: true });
    expect(authorizes(admin, 'admin') && authorizes(admin, 'work', 'anything') && authorizes(admin, 'call', 'x')).toBe(true);
  });
});
