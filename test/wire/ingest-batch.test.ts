import t from 'tap';
import * as flatbuffers from 'flatbuffers';
import { ASK, BID } from '../../src/model/book-types';
import { EV_ADD, EV_CANCEL, EV_CLEAR, EV_DELETE, EV_EXECUTE, EV_MODIFY, EV_REPLACE, EV_TRADE, EVENT_WORDS } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { SymbolLookup } from '../../src/gateway/symbol-lookup';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { buildIngestBatch, IngestBatchDecoder, IngestBatchError, IngestEventFields } from '../../src/wire/ingest-batch';
import { encode, everyType, prng } from './wire-fixtures';

const instruments = DEFAULT_INSTRUMENTS.map((s, i) => toInstrument(s, i));
const lookup = new SymbolLookup(instruments);
const NOW = 1_760_000_000_000_000;
const BTC = instruments.find((i) => i.symbol === 'BTC/USD')!;
const ETH = instruments.find((i) => i.symbol === 'ETH/USD')!;

/** One event of every kind; symbol indexes ['ETH/USD', 'BTC/USD']. */
const EVENTS: IngestEventFields[] = [
  { kind: EV_ADD, symbol: 1, side: BID, orderId: 11, newOrderId: 0, price: 670_005, size: 25_000, timestamp: NOW - 5 },
  { kind: EV_MODIFY, symbol: 1, side: 0, orderId: 11, newOrderId: 0, price: 0, size: 20_000, timestamp: NOW - 4 },
  { kind: EV_REPLACE, symbol: 1, side: 0, orderId: 11, newOrderId: 12, price: 670_010, size: 10_000, timestamp: NOW - 3 },
  { kind: EV_CANCEL, symbol: 0, side: 0, orderId: 7, newOrderId: 0, price: 0, size: 3, timestamp: NOW - 2 },
  { kind: EV_DELETE, symbol: 0, side: 0, orderId: 7, newOrderId: 0, price: 0, size: 0, timestamp: NOW - 1 },
  { kind: EV_EXECUTE, symbol: 1, side: 0, orderId: 12, newOrderId: 0, price: 0, size: 5_000, timestamp: 0 },
  { kind: EV_TRADE, symbol: 1, side: ASK, orderId: 0, newOrderId: 0, price: 670_000, size: 1, timestamp: NOW },
  { kind: EV_CLEAR, symbol: 0, side: 0, orderId: 0, newOrderId: 0, price: 0, size: 0, timestamp: NOW },
];
const NAMES = ['ETH/USD', 'BTC/USD'];

/** The JSON twin of EVENTS. */
const JSON_EVENTS = [
  { kind: 'add', symbol: 'BTC/USD', side: 'buy', order_id: 11, price: '67000.50', size: '0.25000', timestamp: NOW - 5 },
  { kind: 'modify', symbol: 'BTC-USD', order_id: '11', size: '0.2', timestamp: NOW - 4 },
  { kind: 'replace', symbol: 'btc/usd', order_id: 11, new_order_id: 12, price: '67001', size: '0.1', timestamp: NOW - 3 },
  { kind: 'cancel', symbol: 'ETH/USD', order_id: 7, size: '0.0003', timestamp: NOW - 2 },
  { kind: 'delete', symbol: 'ETH/USD', order_id: 7, timestamp: NOW - 1 },
  { kind: 'execute', symbol: 'BTC/USD', order_id: 12, size: '0.05' },
  { kind: 'trade', symbol: 'BTC/USD', side: 'sell', price: '67000', size: '0.00001', timestamp: NOW },
  { kind: 'clear', symbol: 'ETH/USD', timestamp: NOW },
];

/** The words every decoder must produce for EVENTS: kind symbol side orderId price size newOrderId timestamp. */
function expectedWords(): number[][] {
  return EVENTS.map((e) => {
    const symbol = [ETH, BTC][e.symbol].index;
    const side = e.kind === EV_ADD || e.kind === EV_TRADE ? e.side : BID;
    return [e.kind, symbol, side, e.orderId, e.price, e.size, e.newOrderId, e.timestamp === 0 ? NOW : e.timestamp];
  });
}

function decodedWords(decoder: IngestBatchDecoder): number[][] {
  return Array.from({ length: decoder.count }, (_, i) => Array.from(decoder.words.subarray(i * EVENT_WORDS, (i + 1) * EVENT_WORDS)));
}

function binary(first: number, events: IngestEventFields[], names = NAMES): Uint8Array {
  return buildIngestBatch(new flatbuffers.Builder(1024), first, names, events).slice();
}

function refusal(run: () => void): { code: string; index: number; message: string } {
  try {
    run();
  } catch (err) {
    if (!(err instanceof IngestBatchError)) throw err;
    return { code: err.code, index: err.eventIndex, message: err.message };
  }
  return { code: 'accepted', index: -1, message: '' };
}

t.test('a binary batch decodes into input-event words, every kind', async (t) => {
  const decoder = new IngestBatchDecoder(lookup, 100);
  decoder.decodeBinary(binary(41, EVENTS), NOW);
  t.equal(decoder.firstSequence, 41);
  t.equal(decoder.count, EVENTS.length);
  t.same(decodedWords(decoder), expectedWords(), 'fields a kind does not use read as 0, a timestamp of 0 as now');
});

t.test('the JSON twin decodes into the same words, prices and sizes exactly', async (t) => {
  const decoder = new IngestBatchDecoder(lookup, 100);
  decoder.decodeJson(JSON.stringify({ first_sequence: 41, events: JSON_EVENTS }), NOW);
  t.equal(decoder.firstSequence, 41);
  t.same(decodedWords(decoder), expectedWords());
});

t.test('a bad batch is refused whole, with a code and the event at fault', async (t) => {
  const decoder = new IngestBatchDecoder(lookup, 4);
  const json = (events: unknown, first: unknown = 1) => refusal(() => decoder.decodeJson(JSON.stringify({ first_sequence: first, events }), NOW));
  const add = JSON_EVENTS[0];
  const check = (what: string, got: { code: string; index: number }, code: string, index: number) => t.same({ code: got.code, index: got.index }, { code, index }, what);

  check('not JSON', refusal(() => decoder.decodeJson('{"first_sequence":', NOW)), 'INVALID_JSON', -1);
  check('an array', refusal(() => decoder.decodeJson('[]', NOW)), 'BAD_BATCH', -1);
  check('unknown batch field', refusal(() => decoder.decodeJson('{"first_sequence":1,"events":[],"x":1}', NOW)), 'BAD_BATCH', -1);
  check('sequence 0', json([add], 0), 'BAD_BATCH', -1);
  check('fractional sequence', json([add], 1.5), 'BAD_BATCH', -1);
  check('sequence as a string', json([add], '1'), 'BAD_BATCH', -1);
  check('no events', json([]), 'BAD_BATCH', -1);
  check('too many events', json([add, add, add, add, add]), 'BAD_BATCH', -1);
  check('unknown symbol', json([add, { ...add, symbol: 'DOGE/USD' }]), 'UNKNOWN_SYMBOL', 1);
  check('unknown kind', json([{ ...add, kind: 'amend' }]), 'BAD_BATCH', 0);
  check('unknown event field', json([add, add, { ...add, qty: 1 }]), 'BAD_BATCH', 2);
  check('side missing on add', json([{ ...add, side: undefined }]), 'BAD_BATCH', 0);
  check('price as a number', json([{ ...add, price: 67000.5 }]), 'BAD_BATCH', 0);
  check('price finer than the tick precision', json([{ ...add, price: '67000.55' }]), 'BAD_BATCH', 0);
  check('negative size', json([{ ...add, size: '-1' }]), 'BAD_BATCH', 0);
  check('zero size', json([{ ...add, size: '0' }]), 'BAD_BATCH', 0);
  check('order id 0', json([{ ...add, order_id: 0 }]), 'BAD_BATCH', 0);
  check('fractional order id', json([{ ...add, order_id: 1.5 }]), 'BAD_BATCH', 0);
  check('order id beyond 2^53', json([{ ...add, order_id: '9007199254740993' }]), 'BAD_BATCH', 0);
  check('replace without a new id', json([{ ...JSON_EVENTS[2], new_order_id: undefined }]), 'BAD_BATCH', 0);
  check('negative timestamp', json([{ ...add, timestamp: -1 }]), 'BAD_BATCH', 0);
  check('fractional timestamp', json([{ ...add, timestamp: 1.5 }]), 'BAD_BATCH', 0);

  const bin = (events: IngestEventFields[], names = NAMES, first = 1) => refusal(() => decoder.decodeBinary(binary(first, events, names), NOW));
  const badd = EVENTS[0];
  check('binary: symbol index past the batch symbols', bin([{ ...badd, symbol: 2 }]), 'BAD_BATCH', 0);
  check('binary: unknown symbol name', bin([badd], ['ETH/USD', 'NOPE/USD']), 'UNKNOWN_SYMBOL', -1);
  check('binary: kind 0', bin([{ ...badd, kind: 0 }]), 'BAD_BATCH', 0);
  check('binary: kind 9', bin([badd, { ...badd, kind: 9 }]), 'BAD_BATCH', 1);
  check('binary: side 2 on an add', bin([{ ...badd, side: 2 }]), 'BAD_BATCH', 0);
  check('binary: fractional price', bin([{ ...badd, price: 1.5 }]), 'BAD_BATCH', 0);
  check('binary: NaN size', bin([{ ...badd, size: NaN }]), 'BAD_BATCH', 0);
  check('binary: negative order id', bin([{ ...badd, orderId: -3 }]), 'BAD_BATCH', 0);
  check('binary: sequence 0', bin([badd], NAMES, 0), 'BAD_BATCH', -1);
  check('binary: too many events', bin([badd, badd, badd, badd, badd]), 'BAD_BATCH', -1);

  const envelope = encode(new MessageEncoder(), everyType()[0]).slice();
  check('an Envelope frame is not a batch', refusal(() => decoder.decodeBinary(envelope, NOW)), 'BAD_FRAME', -1);
});

t.test('random and mutated bytes are refused with a code, never anything else', async (t) => {
  const decoder = new IngestBatchDecoder(lookup, 100);
  const random = prng(42);
  const valid = binary(1, EVENTS);
  const outcomes = new Map<string, number>();
  for (let round = 0; round < 20_000; round++) {
    let bytes: Uint8Array;
    if (round % 2 === 0) {
      bytes = valid.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      if (random() < 0.2) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
    } else {
      bytes = new Uint8Array(Math.floor(random() * 200));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      if (bytes.length >= 8 && random() < 0.5) bytes.set([0x42, 0x4b, 0x49, 0x4e], 4); // "BKIN"
    }
    let outcome = 'accepted';
    try {
      decoder.decodeBinary(bytes, NOW);
      for (let i = 0; i < decoder.count * EVENT_WORDS; i++) {
        if (!Number.isSafeInteger(decoder.words[i]) || decoder.words[i] < 0) throw new Error(`accepted a word ${decoder.words[i]}`);
      }
    } catch (err) {
      if (!(err instanceof IngestBatchError)) throw err;
      outcome = err.code;
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  t.ok(outcomes.get('BAD_FRAME')! > 0 && outcomes.get('BAD_BATCH')! > 0, `outcomes: ${JSON.stringify([...outcomes])}`);
});
