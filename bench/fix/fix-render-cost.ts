import 'reflect-metadata';
import * as path from 'node:path';
import { DefinitionFactory, ElasticBuffer } from 'jspurefix';
import { AsciiEncoder } from 'jspurefix/dist/buffer/ascii';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { STREAM_L2 } from '../../src/model/streams';
import { frame } from '../../src/fix/fix-codec';
import { FixRenderer } from '../../src/fix/fix-render';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { renderJson } from '../../src/wire/json-renderer';
import { runStandalone } from '../standalone';
import { bestNsPerCall, loadAverage } from '../system';
import { measureAllocation } from '../wire/encode';

/**
 * FixRenderCost: front-thread CPU per L2 update (3 bid and 2 ask level changes, BTC/USD) on each
 * path, in one thread, best of 5 rounds (ns per operation):
 *   json           renderJson: the JSON WebSocket dialects' per-record cost (the baseline)
 *   fixPerRecord   the FIX X body read in place from the frame, once per record whatever the
 *                  number of FIX sessions (FixRenderer.l2Update)
 *   fixPerSession  frame(): header, BodyLength, CheckSum around the shared body, per session
 *   jspurefix      jspurefix's AsciiEncoder encoding the same X body (no header, no trailer) —
 *                  what an acceptor built on jspurefix pays per session, since it encodes each
 *                  message itself
 * The messages/s one front thread could frame for one session is 1e9 / fixPerSession.
 * `allocatedBytes` is heap growth per call (bench/wire/encode.ts's measure): the FIX path is not
 * allocation-free (the body text and bytes, one frame buffer per session and message).
 */

export async function run(opts: { seconds: number }) {
  const ins = toInstrument(DEFAULT_INSTRUMENTS[0], 0);
  const enc = new MessageEncoder();
  const bytes = enc
    .l2Update(new TextEncoder().encode(ins.symbol), 1234, Date.now() * 1000, 10, 1230, 987654321, new Float64Array([670001, 670000, 669990]), new Float64Array([150000, 0, 2500]), 3, new Float64Array([670010, 670020]), new Float64Array([100, 990000]), 2)
    .slice();
  const renderer = new FixRenderer([ins]);
  const key = STREAM_L2;
  const format = { priceDecimals: ins.priceDecimals, sizeDecimals: ins.sizeDecimals };
  const body = renderer.l2Update(key, bytes, ins)!;
  const header = '35=X\x0149=BOOKCAST\x0156=CLIENT1\x0134=123456\x0152=20261202-13:00:00.000\x01';

  const definitions = await new DefinitionFactory().getDefinitions(path.join(path.dirname(require.resolve('jspurefix/package.json')), 'data', 'FIX44.xml'));
  const jsEncoder = new AsciiEncoder(new ElasticBuffer(64 * 1024), definitions);
  const entry = (action: string, type: string, px: string, size?: string) => ({
    MDUpdateAction: action,
    MDEntryType: type,
    Instrument: { Symbol: ins.symbol },
    MDEntryPx: Number(px),
    ...(size === undefined ? {} : { MDEntrySize: Number(size) }),
  });
  const xObject = {
    MDIncGrp: {
      NoMDEntries: [entry('1', '0', '67000.1', '1.5'), entry('2', '0', '67000.0'), entry('0', '0', '66999.0', '0.025'), entry('1', '1', '67001.0', '0.001'), entry('1', '1', '67002.0', '9.9')],
    },
  };
  const perRound = Math.max(2000, Math.round(opts.seconds * 4000));
  const load = loadAverage();
  return {
    json: bestNsPerCall(perRound, () => renderJson(bytes, format)),
    fixPerRecord: bestNsPerCall(perRound, () => renderer.l2Update(key, bytes, ins)),
    fixPerSession: bestNsPerCall(perRound, () => frame(header, body)),
    jspurefix: bestNsPerCall(perRound, () => {
      jsEncoder.reset();
      jsEncoder.encode(xObject, 'MarketDataIncrementalRefresh');
      jsEncoder.trim();
    }),
    allocatedBytes: {
      json: measureAllocation(() => renderJson(bytes, format)),
      fixPerRecord: measureAllocation(() => renderer.l2Update(key, bytes, ins)),
      fixPerSession: measureAllocation(() => frame(header, body)),
    },
    bodyBytes: body.bytes.length,
    loadAverage: load,
  };
}

if (require.main === module) runStandalone(run, 5);
