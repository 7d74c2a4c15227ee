/**
 * FIX 4.4 tag numbers and message types the gateway reads or writes, named as the FIX
 * specification names them. bookcast's own tags are in the user-defined range (5000–9999 is
 * reserved for bilateral use in FIX 4.4; 20000+ is "user defined" and clashes with nothing).
 */
export const BEGIN_STRING = 'FIX.4.4';

export const TAG_BEGIN_STRING = 8;
export const TAG_BODY_LENGTH = 9;
export const TAG_CHECKSUM = 10;
export const TAG_BEGIN_SEQ_NO = 7;
export const TAG_END_SEQ_NO = 16;
export const TAG_MSG_SEQ_NUM = 34;
export const TAG_MSG_TYPE = 35;
export const TAG_NEW_SEQ_NO = 36;
export const TAG_POSS_DUP_FLAG = 43;
export const TAG_REF_SEQ_NUM = 45;
export const TAG_SENDER_COMP_ID = 49;
export const TAG_SENDING_TIME = 52;
export const TAG_SYMBOL = 55;
export const TAG_TARGET_COMP_ID = 56;
export const TAG_TEXT = 58;
export const TAG_POSS_RESEND = 97;
export const TAG_ENCRYPT_METHOD = 98;
export const TAG_HEART_BT_INT = 108;
export const TAG_TEST_REQ_ID = 112;
export const TAG_ORIG_SENDING_TIME = 122;
export const TAG_GAP_FILL_FLAG = 123;
export const TAG_RESET_SEQ_NUM_FLAG = 141;
export const TAG_NO_RELATED_SYM = 146;
export const TAG_SECURITY_REQ_ID = 320;
export const TAG_SECURITY_RESPONSE_ID = 322;
export const TAG_REF_TAG_ID = 371;
export const TAG_REF_MSG_TYPE = 372;
export const TAG_SESSION_REJECT_REASON = 373;
export const TAG_SECURITY_LIST_REQUEST_TYPE = 559;
export const TAG_SECURITY_REQUEST_RESULT = 560;
export const TAG_ROUND_LOT = 561;
export const TAG_MIN_TRADE_VOL = 562;
export const TAG_USERNAME = 553;
export const TAG_PASSWORD = 554;
export const TAG_SECURITY_STATUS = 965;
export const TAG_MIN_PRICE_INCREMENT = 969;
export const TAG_CURRENCY = 15;
export const TAG_SECURITY_DESC = 107;
export const TAG_TOT_NO_RELATED_SYM = 393;
export const TAG_LAST_FRAGMENT = 893;

export const TAG_MD_REQ_ID = 262;
export const TAG_SUBSCRIPTION_REQUEST_TYPE = 263;
export const TAG_MARKET_DEPTH = 264;
export const TAG_MD_UPDATE_TYPE = 265;
export const TAG_AGGREGATED_BOOK = 266;
export const TAG_NO_MD_ENTRY_TYPES = 267;
export const TAG_NO_MD_ENTRIES = 268;
export const TAG_MD_ENTRY_TYPE = 269;
export const TAG_MD_ENTRY_PX = 270;
export const TAG_MD_ENTRY_SIZE = 271;
export const TAG_MD_ENTRY_ID = 278;
export const TAG_MD_UPDATE_ACTION = 279;
export const TAG_MD_REQ_REJ_REASON = 281;
export const TAG_RPT_SEQ = 83;
/** bookcast: the CRC-32 book checksum (the same number as the WebSocket feeds' `checksum`), on L2 W and X. */
export const TAG_BOOK_CHECKSUM = 20001;
/**
 * bookcast: the RptSeq of the previous message on the same stream (the feeds' `prev_sequence`), on
 * L2 and L3 X. A stream skips the sequences of events that do not touch it, so a gap is
 * PrevRptSeq ≠ the last RptSeq held, not a jump in RptSeq.
 */
export const TAG_PREV_RPT_SEQ = 20002;

export const MSG_HEARTBEAT = '0';
export const MSG_TEST_REQUEST = '1';
export const MSG_RESEND_REQUEST = '2';
export const MSG_REJECT = '3';
export const MSG_SEQUENCE_RESET = '4';
export const MSG_LOGOUT = '5';
export const MSG_LOGON = 'A';
export const MSG_NEWS = 'B';
export const MSG_MARKET_DATA_REQUEST = 'V';
export const MSG_MARKET_DATA_SNAPSHOT = 'W';
export const MSG_MARKET_DATA_INCREMENTAL = 'X';
export const MSG_MARKET_DATA_REQUEST_REJECT = 'Y';
export const MSG_SECURITY_LIST_REQUEST = 'x';
export const MSG_SECURITY_LIST = 'y';

/** Admin (session-level) messages: never resent, gap-filled instead. */
export function isAdmin(msgType: string): boolean {
  return msgType.length === 1 && '012345A'.includes(msgType);
}

/** SessionRejectReason (373) values used here. */
export const REJECT_INVALID_TAG = 0;
export const REJECT_REQUIRED_TAG_MISSING = 1;
export const REJECT_VALUE_INCORRECT = 5;
export const REJECT_INCORRECT_DATA_FORMAT = 6;
export const REJECT_INVALID_MSG_TYPE = 11;

/** MDReqRejReason (281) values. */
export const MD_REJECT_UNKNOWN_SYMBOL = '0';
export const MD_REJECT_DUPLICATE_MD_REQ_ID = '1';
export const MD_REJECT_INSUFFICIENT_BANDWIDTH = '2';
export const MD_REJECT_INSUFFICIENT_PERMISSIONS = '3';
export const MD_REJECT_UNSUPPORTED_SUBSCRIPTION_TYPE = '4';
export const MD_REJECT_UNSUPPORTED_MARKET_DEPTH = '5';
export const MD_REJECT_UNSUPPORTED_MD_UPDATE_TYPE = '6';
export const MD_REJECT_UNSUPPORTED_AGGREGATED_BOOK = '7';
export const MD_REJECT_UNSUPPORTED_MD_ENTRY_TYPE = '8';

/** MDEntryType (269) values. */
export const ENTRY_BID = '0';
export const ENTRY_OFFER = '1';
export const ENTRY_TRADE = '2';
export const ENTRY_OPENING = '4';
export const ENTRY_HIGH = '7';
export const ENTRY_LOW = '8';
export const ENTRY_VOLUME = 'B';

/** MDUpdateAction (279). */
export const ACTION_NEW = '0';
export const ACTION_CHANGE = '1';
export const ACTION_DELETE = '2';

/** The `route` labels of FIX refusals in bookcast_auth_failures_total and bookcast_rate_limit_hits_total. */
export const ROUTE_LOGON = 'fix:logon';
export const ROUTE_MARKET_DATA_REQUEST = 'fix:market-data-request';
/** Any other message of a session (a message rate counts every message). */
export const ROUTE_SESSION = 'fix:session';
