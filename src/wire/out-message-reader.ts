import * as flatbuffers from 'flatbuffers';
import { Candle } from './generated/bookcast/wire/candle';
import { Envelope } from './generated/bookcast/wire/envelope';
import { Trade } from './generated/bookcast/wire/trade';

/** Where a trade read off an out-ring goes (the front's recent trades). */
export interface TradeSink {
  record(symbol: number, tradeId: number, price: number, size: number, side: number, makerOrderId: number, timestamp: number, sequence: number): void;
}

/** Where a closed candle read off an out-ring goes (the front's recent candles). */
export interface CandleSink {
  record(
    symbol: number,
    interval: number,
    start: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    volumeRest: number,
    notional: number,
    notionalRest: number,
    count: number,
  ): void;
}

/**
 * Reads the few fields the front keeps from the owner's messages in place, in one out-ring's
 * bytes: one reusable ByteBuffer and one object per table, so the fan-out hot path allocates
 * nothing. The front hands the bytes themselves to clients undecoded; only this reads them.
 */
export class OutMessageReader {
  private readonly bb: flatbuffers.ByteBuffer;
  private readonly envelope = new Envelope();
  private readonly trade = new Trade();
  private readonly candle = new Candle();

  constructor(bytes: Uint8Array) {
    this.bb = new flatbuffers.ByteBuffer(bytes);
  }

  /** The event timestamp (µs since the epoch, 0: none) of the Envelope that starts at byte `at`. */
  timestamp(at: number): number {
    const bb = this.bb;
    bb.setPosition(at);
    return Envelope.getRootAsEnvelope(bb, this.envelope).timestamp();
  }

  /** The trade whose Envelope starts at byte `at`, to `sink`. */
  readTrade(symbol: number, at: number, sink: TradeSink): void {
    const bb = this.bb;
    bb.setPosition(at);
    const env = Envelope.getRootAsEnvelope(bb, this.envelope);
    const t = env.body(this.trade) as Trade;
    sink.record(symbol, t.tradeId(), t.price(), t.size(), t.side(), t.makerOrderId(), env.timestamp(), env.sequence());
  }

  /** The candle whose Envelope starts at byte `at`: a closed one goes to `sink`; returns whether it is closed. */
  readClosedCandle(symbol: number, interval: number, at: number, sink: CandleSink): boolean {
    const bb = this.bb;
    bb.setPosition(at);
    const c = Envelope.getRootAsEnvelope(bb, this.envelope).body(this.candle) as Candle;
    if (!c.final()) return false;
    sink.record(symbol, interval, c.start(), c.open(), c.high(), c.low(), c.close(), c.volume(), c.volumeRest(), c.notional(), c.notionalRest(), c.count());
    return true;
  }
}
