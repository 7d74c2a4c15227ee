import { parseArgs } from 'node:util';
import { OPTIONS } from '../config';
import { BookcastError } from '../errors';
import { openAdminDatabase } from '../auth/auth-database';
import { AuthService } from '../auth/auth-service';
import { ClientRow, ClientStore, ClientType, KeyRow } from '../auth/client-store';
import { loadServerSecret } from '../auth/server-secret';

/**
 * `bookcast clients create|list|suspend|activate`, `bookcast keys create|list|revoke|rotate`,
 * `bookcast audit verify|list` and `bookcast signing-keys rotate`: access control's
 * administration against the store a server would use (--data-dir / --database-url, and the
 * same --auth-secret). A new key or client secret is printed once and never again. With the
 * embedded store, a running server holds it: use its /api/v1/admin endpoints instead.
 *
 * Exit codes: 0 done, 1 refused or failed (the error's code is printed; `audit verify` on a
 * broken chain), 2 bad usage.
 */
export const AUTH_USAGE = `usage: bookcast clients create --name <name> [--type internal|external|partner] [--tier <tier>] [--permissions l1,l2,...]
       bookcast clients list
       bookcast clients suspend|activate <client_id>
       bookcast keys create --client <client_id> [--name <name>] [--permissions l1,l2,...] [--expires <ISO-8601>]
       bookcast keys list [--client <client_id>]
       bookcast keys revoke|rotate <key_id>
       bookcast audit verify | bookcast audit list [--limit <rows>]
       bookcast signing-keys rotate
  every command: [--json] [--data-dir <dir>] [--database-url <url>] [--auth-secret <secret>] (or their environment variables)`;

const STORE_FLAGS = ['data-dir', 'database-url', 'auth-secret'] as const;
export const AUTH_COMMANDS = ['clients', 'keys', 'audit', 'signing-keys'];

function envDefault(flag: string): string {
  const option = OPTIONS.find((o) => o.flag === flag)!;
  return process.env[option.env] ?? option.default;
}

class UsageError extends Error {}

function clientLine(c: ClientRow): string {
  return `${c.clientId}  ${c.name}  ${c.clientType}  tier=${c.tier}  ${c.status}${c.locked ? ' (locked)' : ''}  permissions=${c.permissions.join(',')}`;
}

function keyLine(k: KeyRow): string {
  return `${k.keyId}  client=${k.clientId}  ${k.name}  ${k.status}  permissions=${k.permissions.join(',')}  expires=${k.expiresAt?.toISOString() ?? 'never'}  last_used=${k.lastUsed?.toISOString() ?? 'never'}`;
}

/** Runs one command; `out` receives what is printed (stdout). Returns the exit code. */
export async function authCommand(command: string, argv: string[], out: (line: string) => void = console.log): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        type: { type: 'string' },
        tier: { type: 'string' },
        permissions: { type: 'string' },
        client: { type: 'string' },
        expires: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        'data-dir': { type: 'string' },
        'database-url': { type: 'string' },
        'auth-secret': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    console.error(`bookcast ${command}: ${(err as Error).message}\n${AUTH_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(AUTH_USAGE);
    return 0;
  }
  const store = Object.fromEntries(STORE_FLAGS.map((f) => [f, (values[f] as string | undefined) ?? envDefault(f)]));
  let service: AuthService | null = null;
  try {
    const [verb, target] = positionals;
    if (verb === undefined) throw new UsageError('a subcommand is needed');
    const db = await openAdminDatabase({ databaseUrl: store['database-url'] || undefined, dataDir: store['data-dir'] });
    const secret = store['auth-secret'];
    if (secret !== '' && secret.length < 32) throw new BookcastError('CONFIG_INVALID', 'auth-secret must be at least 32 characters');
    service = new AuthService(db, { serverSecret: new Uint8Array(loadServerSecret(secret, store['data-dir'])), issuer: envDefault('auth-issuer'), tokenTtlS: 900, refreshTtlS: 86_400, clock: Date.now });
    const print = (json: unknown, lines: string[]): void => {
      if (values.json) out(JSON.stringify(json));
      else for (const l of lines) out(l);
    };
    const needTarget = (what: string): string => {
      if (target === undefined) throw new UsageError(`${command} ${verb} needs the ${what}`);
      return target;
    };
    const actor = 'cli';
    switch (`${command} ${verb}`) {
      case 'clients create': {
        if (values.name === undefined) throw new UsageError('clients create needs --name');
        const made = await service.createClient(actor, {
          name: values.name,
          clientType: (values.type ?? 'external') as ClientType,
          tier: values.tier ?? 'standard',
          permissions: ClientStore.permissions(values.permissions),
        });
        print({ client_id: made.client.clientId, client_secret: made.clientSecret, tier: made.client.tier, permissions: made.client.permissions }, [
          clientLine(made.client),
          `client_secret: ${made.clientSecret}`,
          'the client secret is shown once: keep it now (it is stored only as a scrypt hash)',
        ]);
        return 0;
      }
      case 'clients list': {
        const clients = await service.clients.listClients();
        print({ clients: clients.map((c) => ({ client_id: c.clientId, name: c.name, client_type: c.clientType, tier: c.tier, status: c.status, locked: c.locked, permissions: c.permissions })) }, clients.map(clientLine));
        return 0;
      }
      case 'clients suspend':
      case 'clients activate': {
        const client = await service.setClientStatus(actor, needTarget('client id'), verb === 'suspend' ? 'suspended' : 'active');
        print({ client_id: client.clientId, status: client.status }, [clientLine(client)]);
        return 0;
      }
      case 'keys create': {
        if (values.client === undefined) throw new UsageError('keys create needs --client');
        const expiresAt = values.expires === undefined ? null : new Date(values.expires);
        if (expiresAt !== null && Number.isNaN(expiresAt.getTime())) throw new UsageError('--expires must be an ISO-8601 time');
        const made = await service.createKey(actor, { clientId: values.client, name: values.name ?? 'default', permissions: ClientStore.permissions(values.permissions), expiresAt });
        print({ key_id: made.key.keyId, api_key: made.apiKey, permissions: made.key.permissions, expires_at: made.key.expiresAt?.toISOString() ?? null }, [
          keyLine(made.key),
          `api_key: ${made.apiKey}`,
          'the key is shown once: keep it now (it is stored only as a keyed hash)',
        ]);
        return 0;
      }
      case 'keys list': {
        const keys = await service.clients.listKeys(values.client ?? null);
        print({ keys: keys.map((k) => ({ key_id: k.keyId, client_id: k.clientId, name: k.name, status: k.status, permissions: k.permissions, expires_at: k.expiresAt?.toISOString() ?? null })) }, keys.map(keyLine));
        return 0;
      }
      case 'keys revoke': {
        const key = await service.revokeKey(actor, needTarget('key id'));
        print({ key_id: key.keyId, status: key.status }, [keyLine(key)]);
        return 0;
      }
      case 'keys rotate': {
        const rotated = await service.rotateKey(actor, needTarget('key id'));
        print({ key_id: rotated.key.keyId, api_key: rotated.apiKey, revoked_key_id: rotated.revoked.keyId }, [
          keyLine(rotated.key),
          `api_key: ${rotated.apiKey}`,
          `revoked: ${rotated.revoked.keyId}`,
          'the key is shown once: keep it now',
        ]);
        return 0;
      }
      case 'audit verify': {
        const verdict = await service.audit.verify();
        if (verdict.ok) {
          print(verdict, [`audit log intact: ${verdict.rows} rows, head ${verdict.head}`]);
          return 0;
        }
        print(verdict, [`AUDIT_CHAIN_BROKEN: ${verdict.reason} (${verdict.rows} rows verified before it)`]);
        return 1;
      }
      case 'audit list': {
        const limit = values.limit === undefined ? 100 : Number(values.limit);
        if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError('--limit is 1 to 100000');
        const rows = await service.audit.list(limit);
        print({ rows }, rows.map((r) => `${r.seq}  ${new Date(r.atUs / 1000).toISOString()}  ${r.actor}  ${r.action}  ${r.subject ?? '-'}  ${JSON.stringify(r.detail)}`));
        return 0;
      }
      case 'signing-keys rotate': {
        const kid = await service.rotateSigningKey(actor);
        print({ kid }, [`signing with ${kid}; the previous key stays published until the next rotation`]);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command} ${verb}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bookcast ${command}: ${err.message}\n${AUTH_USAGE}`);
      return 2;
    }
    if (err instanceof BookcastError) {
      console.error(`bookcast ${command}: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await service?.db.close();
  }
}
