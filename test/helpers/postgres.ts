import postgres from 'postgres';

export const POSTGRES_ADMIN_URL = process.env.BOOKCAST_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A fresh database on the local PostgreSQL for one test, dropped afterwards. Resolves to null
 * (the caller skips) when the server is unreachable, unless CI=true, where that is a failure.
 */
export async function freshDatabase(name: string): Promise<{ url: string; drop(): Promise<void> } | null> {
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  const db = `bookcast_${name}_${process.pid}_${Date.now()}`;
  try {
    await admin.unsafe(`create database ${db}`);
  } catch (err) {
    await admin.end({ timeout: 1 }).catch(() => undefined);
    if (process.env.CI === 'true') throw new Error(`PostgreSQL at ${POSTGRES_ADMIN_URL} is required with CI=true: ${(err as Error).message}`);
    return null;
  }
  const url = POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${db}`);
  return {
    url,
    async drop() {
      await admin.unsafe(`drop database if exists ${db} with (force)`);
      await admin.end({ timeout: 1 });
    },
  };
}
