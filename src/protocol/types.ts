/**
 * Flux message model (RFC 3; docs/protocol.md §A.3–A.5).
 * This file is the contract every layer shares: the codec turns bytes into these, the
 * broker and the client speak only in these.
 */

/** Message types (PROTO byte 2). */
export const MsgType = {
  REQUEST: 1,
  RESPONSE: 2,
  EVENT: 4,
  CONTROL: 8,
} as const;
export type MsgTypeValue = (typeof MsgType)[keyof typeof MsgType];

/** Message flags (PROTO byte 3). */
export const MsgFlag = {
  TOPIC: 0x01,
  PAYLOAD: 0x02,
  NORESPONSE: 0x04,
  ROUTE: 0x08,
  UPSTREAM: 0x10,
  PRIVATE: 0x20,
  STREAMING: 0x40,
  USER1: 0x80,
} as const;

export const NODEID_ANY = 0xffffffff;
export const NODEID_UPSTREAM = 0xfffffffe;
export const USERID_UNKNOWN = 0xffffffff;

/** Role masks (PROTO bytes 8..11). */
export const Role = {
  NONE: 0,
  OWNER: 1,
  USER: 2,
  LOCAL: 4,
  ADMIN: 8,
  ALL: 0xffffffff,
} as const;

/** Writes a payload's bytes where the encoder says (`Message.payloadWriter`). */
export interface PayloadWriter {
  /** Its length in bytes, near enough (flow control counts queued messages by it). */
  readonly estimate: number;
  /** Its exact length in bytes. The encoder calls it once, right before write(). */
  size(): number;
  /** Write the `size()` bytes at buf[off]; returns the offset after them. */
  write(buf: Buffer, off: number): number;
}

/**
 * One decoded message. `payload` is the raw payload bytes WITHOUT the trailing NUL
 * (undefined when the PAYLOAD flag is clear). Whether the wire frame carried a NUL is
 * kept in `payloadNul` so that a decoded message re-encodes to the same bytes.
 * `route` is defined iff the ROUTE flag is set (the route stack, oldest first).
 * `flags` is authoritative for NORESPONSE/UPSTREAM/PRIVATE/STREAMING/USER1; the codec
 * derives TOPIC/PAYLOAD/ROUTE from the presence of topic/payload/route when encoding.
 */
export interface Message {
  type: MsgTypeValue;
  flags: number;
  topic?: string;
  payload?: Buffer;
  /** true (default) when the payload frame ends with a NUL that is not part of the payload. */
  payloadNul?: boolean;
  /**
   * Encoder input only: the payload as text, written by the encoder straight into the wire
   * buffer with its NUL (saves a copy for large payloads). Never set by the decoder; when set,
   * `payload` is absent. See codec.ts `withTextPayload`.
   */
  payloadText?: string;
  /**
   * Encoder input only: a payload the encoder has written by this writer straight into the
   * wire buffer, with its NUL (e.g. a JSON text built from bytes held elsewhere). Like
   * payloadText, never set by the decoder, and `payload` is then absent.
   */
  payloadWriter?: PayloadWriter;
  route?: string[];
  userid: number;
  rolemask: number;
  /** request: nodeid; response: errnum; event: sequence; control: type */
  aux1: number;
  /** request/response: matchtag; event: 0; control: status */
  aux2: number;
}
