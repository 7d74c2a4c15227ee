import type { Instrument } from '../model/instruments';

/** Finds an instrument by any spelling a client uses: BTC/USD, BTC-USD, btc-usd, BTC%2FUSD. */
export class SymbolLookup {
  private readonly bySpelling = new Map<string, Instrument>();

  constructor(readonly instruments: readonly Instrument[]) {
    for (const ins of instruments) {
      this.bySpelling.set(ins.symbol.toUpperCase(), ins);
      this.bySpelling.set(ins.slug.toUpperCase(), ins);
    }
  }

  find(text: string): Instrument | undefined {
    let name = text;
    if (name.includes('%')) {
      try {
        name = decodeURIComponent(name);
      } catch {
        return undefined;
      }
    }
    // Most clients spell it as listed: no upper-case copy made and hashed for them.
    return this.bySpelling.get(name) ?? this.bySpelling.get(name.toUpperCase());
  }
}
