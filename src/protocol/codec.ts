/**
 * Message codec: Message ⇄ wire bytes (docs/protocol.md §A.2 stream header, §A.3 frames,
 * §A.4 PROTO frame) and the request/response/event builders of §A.5.
 */
import { Errno, FluxError, ProtoError, strerror } from './errno.js';
import { parseJson, stringifyJson } from './json.js';
import {
  MsgFlag,
  MsgType,
  NODEID_ANY,
  USERID_UNKNOWN,
  type Message,
  type MsgTypeValue,
  type PayloadWriter,
} from './types.js';

/** §A.2: magic as it appears on the wire from a little-endian host. */
export const STREAM_MAGIC = Buffer.from([0x12, 0x00, 0xee, 0xff]);
export const HEADER_SIZE = 8;
/** §A.4 */
export const PROTO_SIZE = 20;
export const PROTO_MAGIC = 0x8e;
export const PROTO_VERSION = 1;

const DERIVED_FLAGS = MsgFlag.TOPIC | MsgFlag.PAYLOAD | MsgFlag.ROUTE;
const VALID_TYPES = new Set<number>([MsgType.REQUEST, MsgType.RESPONSE, MsgType.EVENT, MsgType.CONTROL]);

/*
 * Output buffers come from a private 256 KiB slab, like Buffer.allocUnsafe's 8 KiB pool but
 * big enough that a 3 KB submit does not cost a fresh ArrayBuffer every other message (that
 * allocation dominated encode time). Returned buffers are views: a retained one keeps its
 * slab alive, exactly as pooled Buffers do. Larger messages get their own allocation.
 */
const SLAB_SIZE = 256 * 1024;
const SLAB_MAX = SLAB_SIZE >>> 3;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabOff = 0;

/** An uninitialized buffer of `n` bytes (see the slab note above). */
export function allocBuffer(n: number): Buffer {
  if (n > SLAB_MAX) return Buffer.allocUnsafeSlow(n);
  if (slabOff + n > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabOff = 0;
  }
  const b = slab.subarray(slabOff, slabOff + n);
  slabOff = (slabOff + n + 7) & ~7; // keep 8-byte alignment
  return b;
}

/** Bytes a frame of `n` data bytes occupies, prefix included (§A.3). */
function frameSize(n: number): number {
  return n < 255 ? n + 1 : n + 5;
}

function writePrefix(buf: Buffer, off: number, n: number): number {
  if (n < 255) {
    buf[off] = n;
    return off + 1;
  }
  buf[off] = 0xff;
  buf.writeUInt32BE(n, off + 1);
  return off + 5;
}

/**
 * Encode a full message: 8-byte stream header + frames (§A.2, §A.3, §A.4). `alloc` gives the
 * output buffer of exactly the size asked (default: the private slab; a connection passes its
 * OutQueue's chunk so that the bytes land in reused memory).
 */
export function encodeMessage(msg: Message, alloc: (n: number) => Buffer = allocBuffer): Buffer {
  const { topic, payload, route } = msg;
  let flags = msg.flags & ~DERIVED_FLAGS & 0xff;
  let size = PROTO_SIZE + 1;
  let routeLens: number[] | undefined;
  if (route !== undefined) {
    flags |= MsgFlag.ROUTE;
    size += 1; // empty delimiter frame
    if (route.length > 0) {
      routeLens = new Array(route.length);
      for (let i = 0; i < route.length; i++) {
        const n = Buffer.byteLength(route[i]!, 'utf8');
        routeLens[i] = n;
        size += frameSize(n);
      }
    }
  }
  let topicLen = 0;
  if (topic !== undefined) {
    flags |= MsgFlag.TOPIC;
    topicLen = Buffer.byteLength(topic, 'utf8');
    size += frameSize(topicLen);
  }
  let payloadLen = 0;
  const text = msg.payloadText;
  const writer = msg.payloadWriter;
  const nul = text !== undefined || writer !== undefined || msg.payloadNul !== false;
  if (text !== undefined) {
    flags |= MsgFlag.PAYLOAD;
    payloadLen = Buffer.byteLength(text, 'utf8') + 1;
    size += frameSize(payloadLen);
  } else if (writer !== undefined) {
    flags |= MsgFlag.PAYLOAD;
    payloadLen = writer.size() + 1;
    size += frameSize(payloadLen);
  } else if (payload !== undefined) {
    flags |= MsgFlag.PAYLOAD;
    payloadLen = payload.length + (nul ? 1 : 0);
    size += frameSize(payloadLen);
  }

  const buf = alloc(HEADER_SIZE + size);
  buf[0] = 0x12;
  buf[1] = 0x00;
  buf[2] = 0xee;
  buf[3] = 0xff;
  buf.writeUInt32BE(size, 4);
  let off = HEADER_SIZE;
  if (route !== undefined) {
    for (let i = 0; i < route.length; i++) {
      off = writePrefix(buf, off, routeLens![i]!);
      off += buf.write(route[i]!, off, 'utf8');
    }
    buf[off++] = 0;
  }
  if (topic !== undefined) {
    off = writePrefix(buf, off, topicLen);
    off += buf.write(topic, off, 'utf8');
  }
  if (text !== undefined) {
    off = writePrefix(buf, off, payloadLen);
    off += buf.write(text, off, 'utf8');
    buf[off++] = 0;
  } else if (writer !== undefined) {
    off = writePrefix(buf, off, payloadLen);
    off = writer.write(buf, off);
    buf[off++] = 0;
  } else if (payload !== undefined) {
    off = writePrefix(buf, off, payloadLen);
    off += payload.copy(buf, off);
    if (nul) buf[off++] = 0;
  }
  buf[off] = PROTO_SIZE;
  buf[off + 1] = PROTO_MAGIC;
  buf[off + 2] = PROTO_VERSION;
  buf[off + 3] = msg.type;
  buf[off + 4] = flags;
  buf.writeUInt32BE(msg.userid >>> 0, off + 5);
  buf.writeUInt32BE(msg.rolemask >>> 0, off + 9);
  buf.writeUInt32BE(msg.aux1 >>> 0, off + 13);
  buf.writeUInt32BE(msg.aux2 >>> 0, off + 17);
  return buf;
}

/**
 * Decode the frame section of one message (everything after the 8-byte header; §A.3, §A.4).
 * `payload` is a view into `frames` (no copy). Throws ProtoError (EPROTO) on malformed input.
 */
export function decodeFrames(frames: Buffer): Message {
  // Split into frames: starts/lengths, in tables reused by every call (decoding is synchronous),
  // so a message costs no garbage per frame and one with too many frames stops at MAX_FRAMES+1.
  const starts = frameStarts;
  const lens = frameLens;
  const end = frames.length;
  let off = 0;
  let count = 0;
  while (off < end) {
    if (count === MAX_FRAMES) throw new ProtoError(tooManyFrames());
    let n = frames[off]!;
    off++;
    if (n === 0xff) {
      if (end - off < 4) throw new ProtoError(`truncated frame size: ${end - off + 1} bytes left for a 5-byte prefix`);
      n = frames.readUInt32BE(off);
      off += 4;
    }
    if (n > end - off) throw new ProtoError(`truncated frame: size ${n} exceeds remaining ${end - off} bytes`);
    starts[count] = off;
    lens[count] = n;
    count++;
    off += n;
  }
  if (count === 0) throw new ProtoError('missing PROTO frame');
  const p = starts[count - 1]!;
  const plen = lens[count - 1]!;
  if (plen !== PROTO_SIZE) throw new ProtoError(`PROTO frame is ${plen} bytes, expected ${PROTO_SIZE}`);
  if (frames[p] !== PROTO_MAGIC) throw new ProtoError(`bad PROTO magic 0x${hex2(frames[p]!)}`);
  if (frames[p + 1] !== PROTO_VERSION) throw new ProtoError(`bad message version ${frames[p + 1]}`);
  const type = frames[p + 2]!;
  if (!VALID_TYPES.has(type)) throw new ProtoError(`bad message type ${type}`);
  const flags = frames[p + 3]!;
  if ((flags & MsgFlag.NORESPONSE) !== 0 && (flags & MsgFlag.STREAMING) !== 0) {
    throw new ProtoError('NORESPONSE and STREAMING both set');
  }
  const msg: Message = {
    type: type as MsgTypeValue,
    flags,
    userid: frames.readUInt32BE(p + 4),
    rolemask: frames.readUInt32BE(p + 8),
    aux1: frames.readUInt32BE(p + 12),
    aux2: frames.readUInt32BE(p + 16),
  };
  const last = count - 1; // index of PROTO
  let i = 0;
  if (flags & MsgFlag.ROUTE) {
    const route: string[] = [];
    for (;;) {
      if (i >= last) throw new ProtoError('missing route delimiter');
      if (lens[i] === 0) break;
      route.push(frames.toString('utf8', starts[i], starts[i]! + lens[i]!));
      i++;
    }
    i++; // delimiter
    msg.route = route;
  }
  if (flags & MsgFlag.TOPIC) {
    if (i >= last) throw new ProtoError('missing topic frame');
    msg.topic = frames.toString('utf8', starts[i], starts[i]! + lens[i]!);
    i++;
  }
  if (flags & MsgFlag.PAYLOAD) {
    if (i >= last) throw new ProtoError('missing payload frame');
    const s = starts[i]!;
    const n = lens[i]!;
    if (n > 0 && frames[s + n - 1] === 0) {
      msg.payload = frames.subarray(s, s + n - 1);
      msg.payloadNul = true;
    } else {
      msg.payload = frames.subarray(s, s + n);
      msg.payloadNul = false;
    }
    i++;
  }
  if (i !== last) throw new ProtoError(`${last - i} unexpected extra frame(s) before PROTO`);
  return msg;
}

/**
 * Most frames one message may have: the route (one frame per hop, RFC 3 / §A.3), its empty
 * delimiter, topic, payload and PROTO. A route of 250 hops is far beyond any tree depth; a
 * message of more frames is refused (EPROTO) as soon as its frame prefixes show it
 * (StreamDecoder counts them while the message is still arriving).
 */
export const MAX_FRAMES = 254;
const frameStarts = new Uint32Array(MAX_FRAMES);
const frameLens = new Uint32Array(MAX_FRAMES);

export function tooManyFrames(): string {
  return `more than ${MAX_FRAMES} frames in one message`;
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

// ---------------------------------------------------------------- builders (§A.5)

/** Set TOPIC/PAYLOAD/ROUTE from presence, so built messages equal their decoded form. */
function deriveFlags(msg: Message): Message {
  let f = msg.flags & ~DERIVED_FLAGS;
  if (msg.topic !== undefined) f |= MsgFlag.TOPIC;
  if (msg.payload !== undefined) f |= MsgFlag.PAYLOAD;
  if (msg.route !== undefined) f |= MsgFlag.ROUTE;
  msg.flags = f;
  return msg;
}

/** What a builder accepts as payload: an object (→ compact lossless JSON + NUL), a string
 * (→ UTF-8 + NUL, like flux_msg_set_string), or a Buffer (raw bytes, no NUL added, like
 * flux_msg_set_payload). undefined, '' and an empty Buffer mean "no payload frame". */
export type PayloadInput = object | string | Buffer | undefined;

function setPayload(msg: Message, payload: PayloadInput): void {
  if (payload === undefined || payload === null) return;
  if (Buffer.isBuffer(payload)) {
    if (payload.length === 0) return;
    msg.payload = payload;
    msg.payloadNul = false;
    return;
  }
  const text = typeof payload === 'string' ? payload : stringifyJson(payload);
  if (text.length === 0) return;
  const buf = allocBuffer(Buffer.byteLength(text, 'utf8'));
  buf.write(text, 0, 'utf8');
  msg.payload = buf;
  msg.payloadNul = true;
}

/**
 * Set a message's payload as text for the encoder to write directly (no intermediate buffer);
 * an object is JSON-encoded (lossless bigints) first. Empty text means no payload, as setPayload.
 * For messages that are only encoded, never read back.
 */
export function withTextPayload(msg: Message, payload: object | string | undefined): Message {
  const text = payload === undefined ? '' : typeof payload === 'string' ? payload : stringifyJson(payload);
  msg.payload = undefined;
  msg.payloadNul = undefined;
  msg.payloadWriter = undefined;
  if (text.length === 0) {
    msg.payloadText = undefined;
    msg.flags &= ~MsgFlag.PAYLOAD;
  } else {
    msg.payloadText = text;
    msg.flags |= MsgFlag.PAYLOAD;
  }
  return msg;
}

/** Set a message's payload as a writer the encoder calls (Message.payloadWriter). */
export function withPayloadWriter(msg: Message, writer: PayloadWriter): Message {
  msg.payload = undefined;
  msg.payloadNul = undefined;
  msg.payloadText = undefined;
  msg.payloadWriter = writer;
  msg.flags |= MsgFlag.PAYLOAD;
  return msg;
}

export interface RequestOptions {
  /** aux2; 0 (none) by default. */
  matchtag?: number;
  /** aux1; NODEID_ANY by default. */
  nodeid?: number;
  /** extra flags, e.g. MsgFlag.STREAMING or MsgFlag.NORESPONSE */
  flags?: number;
  /** credentials; default USERID_UNKNOWN / Role.NONE as a client sends them */
  userid?: number;
  rolemask?: number;
}

/** A client request (§A.5): ROUTE with an empty stack, userid UNKNOWN, rolemask 0, nodeid ANY. */
export function request(topic: string, payload?: PayloadInput, opts: RequestOptions = {}): Message {
  const msg: Message = {
    type: MsgType.REQUEST,
    flags: (opts.flags ?? 0) & ~DERIVED_FLAGS,
    topic,
    route: [],
    userid: opts.userid ?? USERID_UNKNOWN,
    rolemask: opts.rolemask ?? 0,
    aux1: opts.nodeid ?? NODEID_ANY,
    aux2: opts.matchtag ?? 0,
  };
  setPayload(msg, payload);
  return deriveFlags(msg);
}

export interface Cred {
  userid: number;
  rolemask: number;
}

/**
 * Success response derived from a request (flux_response_derive, §A.5): keeps topic, route,
 * flags (STREAMING…) and matchtag; type RESPONSE, errnum 0. Credentials default to
 * UNKNOWN/NONE; a byte-exact server passes the requester's uid and rolemask 5 (vectors README).
 */
export function response(req: Message, payload?: PayloadInput, cred?: Cred): Message {
  const msg: Message = {
    type: MsgType.RESPONSE,
    flags: req.flags & ~DERIVED_FLAGS,
    userid: cred ? cred.userid : USERID_UNKNOWN,
    rolemask: cred ? cred.rolemask : 0,
    aux1: 0,
    aux2: req.aux2,
  };
  if (req.route !== undefined) msg.route = req.route.slice();
  if (req.topic !== undefined) msg.topic = req.topic;
  setPayload(msg, payload);
  return deriveFlags(msg);
}

/** Error response (§A.5): errnum 0 becomes EINVAL; optional NUL-terminated plain-text message. */
export function errorResponse(req: Message, errnum: number, text?: string, cred?: Cred): Message {
  const msg = response(req, text, cred);
  msg.aux1 = errnum === 0 ? Errno.EINVAL : errnum >>> 0;
  return msg;
}

export interface EventOptions {
  /** default [] (events are route-enabled, §A.3) */
  route?: string[] | null;
  flags?: number;
  userid?: number;
  rolemask?: number;
}

/** An event message: type EVENT, aux1 = sequence number, aux2 = 0. */
export function event(topic: string, payload: PayloadInput, seq: number, opts: EventOptions = {}): Message {
  const msg: Message = {
    type: MsgType.EVENT,
    flags: (opts.flags ?? 0) & ~DERIVED_FLAGS,
    topic,
    userid: opts.userid ?? USERID_UNKNOWN,
    rolemask: opts.rolemask ?? 0,
    aux1: seq,
    aux2: 0,
  };
  if (opts.route !== null) msg.route = opts.route ?? [];
  setPayload(msg, payload);
  return deriveFlags(msg);
}

// ---------------------------------------------------------------- payload accessors

/** Payload as UTF-8 text (without the trailing NUL), or undefined when there is none. */
export function payloadString(msg: Message): string | undefined {
  return msg.payload === undefined ? undefined : msg.payload.toString('utf8');
}

export interface PayloadJsonOptions {
  /** return undefined instead of throwing when the message has no payload */
  optional?: boolean;
}

/**
 * Decode a JSON-object payload losslessly (unsafe integers → bigint). Like flux_msg_unpack:
 * a missing payload, invalid JSON or a non-object is a ProtoError (EPROTO).
 */
export function payloadJson(msg: Message, opts?: PayloadJsonOptions): any {
  if (msg.payload === undefined) {
    if (opts?.optional) return undefined;
    throw new ProtoError('message has no payload');
  }
  let v: unknown;
  try {
    v = parseJson(msg.payload);
  } catch (e) {
    throw new ProtoError(`payload is not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ProtoError('payload is not a JSON object');
  }
  return v;
}

/** For a response: undefined on success, else a FluxError with the server text or strerror. */
export function responseError(msg: Message): FluxError | undefined {
  if (msg.aux1 === 0) return undefined;
  const text = payloadString(msg);
  return new FluxError(msg.aux1, text !== undefined && text !== '' ? text : strerror(msg.aux1));
}
