import { BookcastError } from '../errors';

/**
 * A FlatBuffers verifier for fbs/bookcast.fbs (Envelope frames, and IngestBatch frames from publishers). The JavaScript flatbuffers runtime has none (only
 * C++ and a few other languages do), and its accessors read whatever offsets a buffer holds, so
 * garbage from the network can send them anywhere or make them loop over a 2^31-element vector.
 * This checks, before any accessor runs, what the C++ Verifier checks for this schema: every
 * offset followed lands inside the buffer, every table's vtable and inline fields fit and are
 * aligned, vectors and strings fit (strings NUL-terminated). It is stricter in one way: a frame
 * must carry a body of a type this schema knows. After it passes, every accessor read is in
 * bounds. Enum values inside structs are not checked (newer schemas may add some).
 *
 * It allocates a DataView per frame and throws: fine for clients and tools, and for /ingest,
 * where it runs once per batch of events, not per event.
 */

/** fbs/bookcast.fbs's file_identifier: bytes 4..7 of every frame. */
export const FILE_IDENTIFIER = 'BKCT';

/** The identifier of /ingest frames, whose root is an IngestBatch (see fbs/bookcast.fbs). */
export const INGEST_FILE_IDENTIFIER = 'BKIN';

export const BAD_FRAME = 'BAD_FRAME';


/** Bytes that are not a valid bookcast frame (catalog code BAD_FRAME). */
export class BadFrameError extends BookcastError {
  constructor(message: string) {
    super(BAD_FRAME, message);
    this.name = 'BadFrameError';
  }
}

type FieldSpec =
  | { kind: 'scalar'; size: number }
  | { kind: 'string' }
  | { kind: 'structs'; size: number }
  | { kind: 'strings' }
  | { kind: 'tables'; table: TableSpec }
  | { kind: 'union'; typeSlot: number; tables: readonly (TableSpec | null)[] };

/** Field specs in vtable slot order, as declared in the schema. */
type TableSpec = readonly FieldSpec[];

const U8: FieldSpec = { kind: 'scalar', size: 1 };
const U16: FieldSpec = { kind: 'scalar', size: 2 };
const U32: FieldSpec = { kind: 'scalar', size: 4 };
const F64: FieldSpec = { kind: 'scalar', size: 8 };
const STRING: FieldSpec = { kind: 'string' };
const LEVELS: FieldSpec = { kind: 'structs', size: 16 };
const ORDERS: FieldSpec = { kind: 'structs', size: 24 };
const ORDER_CHANGES: FieldSpec = { kind: 'structs', size: 32 };

const L2_SNAPSHOT: TableSpec = [U16, U8, U8, U32, LEVELS, LEVELS];
const L2_UPDATE: TableSpec = [U16, F64, U32, LEVELS, LEVELS];
const L3_SNAPSHOT: TableSpec = [U8, U8, ORDERS, ORDERS];
const L3_UPDATE: TableSpec = [F64, ORDER_CHANGES, ORDER_CHANGES];
const TRADE: TableSpec = [F64, F64, F64, U8, F64];
const TICKER: TableSpec = [F64, F64, F64, F64, F64, F64, F64, F64, F64, F64];
const SUBSCRIPTION_STATE: TableSpec = [STRING, STRING, U16, F64];
const HEARTBEAT: TableSpec = [{ kind: 'tables', table: SUBSCRIPTION_STATE }];
const SUBSCRIBED: TableSpec = [{ kind: 'strings' }, { kind: 'strings' }, U16];
const ERROR: TableSpec = [STRING, STRING];
/** interval, start … count, final (a bool is one byte). */
const CANDLE: TableSpec = [U8, F64, F64, F64, F64, F64, F64, F64, F64, U8];

/** Indexed by the Body union's type code (0 is NONE). */
const BODIES: readonly (TableSpec | null)[] = [
  null,
  L2_SNAPSHOT,
  L2_UPDATE,
  L3_SNAPSHOT,
  L3_UPDATE,
  TRADE,
  TICKER,
  HEARTBEAT,
  SUBSCRIBED,
  ERROR,
  CANDLE,
];

const ENVELOPE: TableSpec = [STRING, F64, F64, U8, { kind: 'union', typeSlot: 3, tables: BODIES }];

/** The root of /ingest frames: first_sequence, symbols, events (48-byte IngestEvent structs). */
const INGEST_BATCH: TableSpec = [F64, { kind: 'strings' }, { kind: 'structs', size: 48 }];

function fail(reason: string): never {
  throw new BadFrameError(`bad frame: ${reason}`);
}

class Verifier {
  private readonly view: DataView;
  private readonly length: number;

  constructor(bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
  }

  root(identifier: string, spec: TableSpec): void {
    if (this.length < 8) fail(`${this.length} bytes is too short for a FlatBuffer`);
    for (let i = 0; i < 4; i++) {
      if (this.view.getUint8(4 + i) !== identifier.charCodeAt(i)) fail(`file identifier is not ${identifier}`);
    }
    this.table(this.offset(0), spec);
  }

  private within(pos: number, size: number, what: string): void {
    if (pos < 0 || size < 0 || pos + size > this.length) fail(`${what} at ${pos} (+${size}) lies outside ${this.length} bytes`);
  }

  private aligned(pos: number, align: number, what: string): void {
    if (pos % align !== 0) fail(`${what} at ${pos} is not ${align}-byte aligned`);
  }

  /** Follows the uoffset stored at `pos`; returns where it points. */
  private offset(pos: number): number {
    this.aligned(pos, 4, 'offset');
    this.within(pos, 4, 'offset');
    const o = this.view.getUint32(pos, true);
    if (o === 0 || o > 0x7fffffff) fail(`offset ${o} at ${pos}`);
    this.within(pos + o, 1, 'offset target');
    return pos + o;
  }

  private table(pos: number, spec: TableSpec): void {
    this.aligned(pos, 4, 'table');
    this.within(pos, 4, 'table');
    const vtable = pos - this.view.getInt32(pos, true);
    this.aligned(vtable, 2, 'vtable');
    this.within(vtable, 4, 'vtable');
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    // The JS accessors read vtable sizes and field offsets as signed 16-bit numbers: at 0x8000
    // and above they would see negative offsets and read outside what was verified here. Our
    // tables are tens of bytes, so nothing legitimate comes near.
    if (vtableSize < 4 || vtableSize >= 0x8000 || vtableSize % 2 !== 0) fail(`vtable size ${vtableSize}`);
    this.within(vtable, vtableSize, 'vtable');
    if (tableSize < 4 || tableSize >= 0x8000) fail(`table size ${tableSize}`);
    this.within(pos, tableSize, 'table');
    for (let slot = 0; slot < spec.length; slot++) {
      const fieldSpec = spec[slot];
      const field = this.slot(vtable, vtableSize, slot);
      if (fieldSpec.kind === 'union') {
        this.union(pos, tableSize, vtable, vtableSize, field, fieldSpec.typeSlot, fieldSpec.tables);
        continue;
      }
      if (field === 0) continue;
      const size = fieldSpec.kind === 'scalar' ? fieldSpec.size : 4;
      if (field + size > tableSize) fail(`field ${slot} runs past its table`);
      this.aligned(pos + field, size, `field ${slot}`);
      this.field(pos + field, fieldSpec);
    }
  }

  /** A field's offset inside its table, 0 when absent (default value). */
  private slot(vtable: number, vtableSize: number, slot: number): number {
    const entry = 4 + 2 * slot;
    return entry < vtableSize ? this.view.getUint16(vtable + entry, true) : 0;
  }

  private field(pos: number, spec: Exclude<FieldSpec, { kind: 'union' }>): void {
    switch (spec.kind) {
      case 'scalar':
        return;
      case 'string':
        return this.string(this.offset(pos));
      case 'structs':
        this.vector(this.offset(pos), spec.size);
        return;
      case 'strings': {
        const vector = this.offset(pos);
        const count = this.vector(vector, 4);
        for (let i = 0; i < count; i++) this.string(this.offset(vector + 4 + 4 * i));
        return;
      }
      case 'tables': {
        const vector = this.offset(pos);
        const count = this.vector(vector, 4);
        for (let i = 0; i < count; i++) this.table(this.offset(vector + 4 + 4 * i), spec.table);
        return;
      }
    }
  }

  /** Every frame carries a body, of a type this schema knows. */
  private union(
    table: number,
    tableSize: number,
    vtable: number,
    vtableSize: number,
    field: number,
    typeSlot: number,
    tables: readonly (TableSpec | null)[],
  ): void {
    const typeField = this.slot(vtable, vtableSize, typeSlot);
    const type = typeField === 0 ? 0 : this.view.getUint8(table + typeField);
    const spec = tables[type];
    if (spec === undefined) fail(`unknown body type ${type}`);
    if (spec === null || field === 0) fail('no body');
    if (field + 4 > tableSize) fail('body offset runs past its table');
    this.table(this.offset(table + field), spec);
  }

  /** Checks a vector's length and extent; returns its element count. */
  private vector(pos: number, elementSize: number): number {
    this.aligned(pos, 4, 'vector');
    this.within(pos, 4, 'vector');
    const count = this.view.getUint32(pos, true);
    this.within(pos + 4, count * elementSize, 'vector');
    return count;
  }

  private string(pos: number): void {
    const length = this.vector(pos, 1);
    this.within(pos + 4 + length, 1, 'string terminator');
    if (this.view.getUint8(pos + 4 + length) !== 0) fail(`string at ${pos} is not NUL-terminated`);
  }
}

/** Throws BadFrameError (code BAD_FRAME) unless `bytes` is a well-formed bookcast Envelope. */
export function verifyFrame(bytes: Uint8Array): void {
  new Verifier(bytes).root(FILE_IDENTIFIER, ENVELOPE);
}

/** Throws BadFrameError unless `bytes` is a well-formed IngestBatch (file identifier INGEST_FILE_IDENTIFIER). */
export function verifyIngestBatch(bytes: Uint8Array): void {
  new Verifier(bytes).root(INGEST_FILE_IDENTIFIER, INGEST_BATCH);
}
