import type { Config } from '../config';
import { Instrument, toInstrument } from '../model/instruments';
import { lobsterFiles } from '../source/lobster-files';
import { lobsterInstrument } from '../source/lobster-translator';
import { journalInstruments } from '../source/journal-replay';

/** The instruments this run serves: a recording brings its own; the simulator and ingest use the configured ones. */
export function pickInstruments(config: Config): Instrument[] {
  if (config.source.kind === 'lobster') return [lobsterInstrument(lobsterFiles(config.source.path).ticker, 0)];
  if (config.source.kind === 'journal') return journalInstruments(config.source.dir);
  return config.instruments.map((spec, i) => toInstrument(spec, i));
}
