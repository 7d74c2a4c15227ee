/**
 * The Market Data API's stream dialect wraps the Data Feed JSON of a message instead of rendering
 * it again: `{"type":"DATA","timestamp":T,"payload":{"data_type":D, …the feed message…}}`. The
 * payload therefore carries symbol, data_type, data and timestamp as that spec asks, plus the feed's
 * own type (snapshot or update), sequence and, where it applies, prev_sequence and checksum.
 */
const TIMESTAMP_KEY = '"timestamp":"';
/** Our timestamps are fixed-width: 2026-11-22T01:00:20.822554Z. */
const TIMESTAMP_LENGTH = 27;

export function wrapMarketData(feedJson: string, dataType: string): string {
  const at = feedJson.indexOf(TIMESTAMP_KEY) + TIMESTAMP_KEY.length;
  const timestamp = feedJson.slice(at, at + TIMESTAMP_LENGTH);
  return '{"type":"DATA","timestamp":"' + timestamp + '","payload":{"data_type":"' + dataType + '",' + feedJson.slice(1) + '}';
}
