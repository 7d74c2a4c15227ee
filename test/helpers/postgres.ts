import postgres from 'postgres';

export const POSTGRES_ADMIN_URL = process.env.BOOKCAST_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A fresh database on the local PostgreSQL for one test, dropped afterwards. Resolves to null
 * (the caller skips) only when the server refuses the connection, and with CI=true not even
 * then. Any other failure (a server that answers but cannot create the database, a refused
 * login, a timeout) rejects: it is a broken environment or a bug, never a reason to skip.
 */
export async function freshDatabase(name: string, adminUrl = POSTGRES_ADMIN_URL): Promise<{ url: string; drop(): Promise<void> } | null> {
  // A refused connection fails at once; the timeout only guards a hang (a loaded machine's server can take seconds to accept).
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined, connect_timeout: 60 });
  const db = `bookcast_${name}_${process.pid}_${Date.now()}`;
  try {
    await admin.unsafe(`create database ${db}`);
  } catch (err) {
    await admin.end({ timeout: 1 }).catch(() => undefined);
    const refused = (err as { code?: string }).code === 'ECONNREFUSED';
    if (!refused) throw new Error(`creating a test database on ${adminUrl} failed: ${(err as Error).message}`, { cause: err });
    if (process.env.CI === 'true') throw new Error(`PostgreSQL at ${adminUrl} is required with CI=true: ${(err as Error).message}`, { cause: err });
    return null;
  }
  const url = adminUrl.replace(/\/[^/]*$/, `/${db}`);
  return {
    url,
    async drop() {
      await admin.unsafe(`drop database if exists ${db} with (force)`);
      await admin.end({ timeout: 1 });
    },
  };
}
