import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { listSegments } from '../journal/journal-segments';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import type { Config } from '../config';
import { BookcastError } from '../errors';
import type { InstrumentSpec } from '../model/instruments';
import { CHECKPOINTS_DIR, checkpointPath } from '../engine/checkpoint-files';
import { ReplicationMeta, replicationKeys } from './replication-format';

/** How long an edge waits at start for Redis to answer. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * An edge's start: what the primary runs (its instruments and worker count, from `<prefix>:meta`)
 * and its newest checkpoint, copied into a scratch data directory of the edge's own where the
 * book workers load it like any checkpoint. The edge keeps nothing else there: the directory
 * is removed when it stops, and a restart bootstraps again. A standby bootstraps the same way into
 * its own --data-dir, which must hold no journal yet: its journal goes on from the checkpoint, and
 * is the one it keeps as a primary. Other sources pass through unchanged.
 */
export async function bootstrapFollower(config: Config): Promise<Config> {
  if (config.source.kind !== 'follow' && config.source.kind !== 'standby') return config;
  const journalDir = path.join(config.dataDir, 'journal');
  if (config.source.kind === 'standby' && existsSync(journalDir) && listSegments(journalDir).length > 0) {
    throw new BookcastError('CONFIG_INVALID', `${config.dataDir} holds a journal already: a standby starts from an empty --data-dir (it bootstraps from the primary's checkpoint)`);
  }
  const keys = replicationKeys(config.replicationPrefix);
  const redis = new Redis(config.source.redisUrl, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const metaText = await redis.get(keys.meta);
    if (metaText === null) throw new BookcastError('REPLICATION_UNAVAILABLE', `no primary publishes under ${config.replicationPrefix} (${keys.meta} is missing): start the primary with --redis-url and the same --replication-prefix`);
    const meta = JSON.parse(metaText) as ReplicationMeta;
    const dataDir = config.source.kind === 'follow' ? await mkdtemp(path.join(tmpdir(), 'bookcast-edge-')) : config.dataDir;
    const checkpoint = await redis.hgetallBuffer(keys.checkpoint);
    const sequence = Number(checkpoint.sequence?.toString());
    if (sequence > 0) {
      const dir = checkpointPath(path.join(dataDir, CHECKPOINTS_DIR), sequence);
      await mkdir(dir, { recursive: true });
      // The marker last: a checkpoint without it does not exist for the workers.
      const names = Object.keys(checkpoint).filter((n) => n !== 'sequence' && !n.includes('/') && !n.startsWith('.'));
      const marker = names.filter((n) => n.endsWith('.json'));
      for (const name of [...names.filter((n) => !n.endsWith('.json')), ...marker]) await writeFile(path.join(dir, name), new Uint8Array(checkpoint[name]));
    }
    return { ...config, instruments: meta.instruments as InstrumentSpec[], workers: meta.workers, dataDir };
  } catch (err) {
    if (err instanceof BookcastError) throw err;
    throw new BookcastError('REPLICATION_UNAVAILABLE', `the primary's replication data at ${config.source.redisUrl}: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}
