import type { Instrument } from '../model/instruments';
import { echo, field, FixBody, fixBody, FixMessage } from './fix-codec';
import {
  TAG_CURRENCY,
  TAG_LAST_FRAGMENT,
  TAG_MIN_PRICE_INCREMENT,
  TAG_MIN_TRADE_VOL,
  TAG_NO_RELATED_SYM,
  TAG_ROUND_LOT,
  TAG_SECURITY_DESC,
  TAG_SECURITY_LIST_REQUEST_TYPE,
  TAG_SECURITY_REQ_ID,
  TAG_SECURITY_REQUEST_RESULT,
  TAG_SECURITY_RESPONSE_ID,
  TAG_SYMBOL,
  TAG_TOT_NO_RELATED_SYM,
} from './fix-tags';

/** SecurityListRequestType (559) 0: the one Symbol (55) named; any other type: every instrument. */
const BY_SYMBOL = '0';
/** SecurityRequestResult (560): 0 valid request, 2 no instruments found. */
const RESULT_VALID = '0';
const RESULT_NONE = '2';

let responses = 0;

/**
 * SecurityListRequest (x) → SecurityList (y), one message (LastFragment Y): per instrument its
 * Symbol, SecurityDesc ("BASE/QUOTE online"), Currency (the quote currency), MinPriceIncrement (969,
 * the tick size), RoundLot (561, the lot size) and MinTradeVol (562, the smallest order), as the
 * exact decimals of the REST symbol list. Null when the request lacks its required fields.
 */
export function securityList(m: FixMessage, instruments: readonly Instrument[]): FixBody | null {
  const reqId = m.get(TAG_SECURITY_REQ_ID);
  const type = m.get(TAG_SECURITY_LIST_REQUEST_TYPE);
  if (reqId === undefined || type === undefined) return null;
  const wanted = type === BY_SYMBOL ? m.get(TAG_SYMBOL) : undefined;
  const list = wanted === undefined ? instruments : instruments.filter((i) => i.symbol === wanted);
  let body =
    field(TAG_SECURITY_REQ_ID, echo(reqId)) +
    field(TAG_SECURITY_RESPONSE_ID, `SL${++responses}`) +
    field(TAG_SECURITY_REQUEST_RESULT, list.length > 0 ? RESULT_VALID : RESULT_NONE) +
    field(TAG_TOT_NO_RELATED_SYM, list.length) +
    field(TAG_LAST_FRAGMENT, 'Y') +
    field(TAG_NO_RELATED_SYM, list.length);
  for (const i of list) {
    body +=
      field(TAG_SYMBOL, i.symbol) +
      field(TAG_SECURITY_DESC, `${i.base}/${i.quote} ${i.status}`) +
      field(TAG_CURRENCY, i.quote) +
      field(TAG_MIN_PRICE_INCREMENT, i.tickSize) +
      field(TAG_ROUND_LOT, i.lotSize) +
      field(TAG_MIN_TRADE_VOL, i.minOrderSize);
  }
  return fixBody(body);
}
