/**
 * AMQP 0-9-1 framing (§4.2.3): the protocol header `AMQP 0 0 9 1` a client opens with, then frames
 * of type (1 octet), channel (2), payload size (4), payload, and the frame end octet 0xCE. Types:
 * 1 method, 2 content header, 3 content body, 8 heartbeat.
 *
 * What tells a frame start from any other bytes (for the sniffer, and to find frames again after a
 * gap or when a capture joined a connection midway): a method frame whose class and method numbers
 * name a method, a content header of the basic class with weight 0, or a heartbeat; and the frame
 * end octet where the size puts it.
 */
import type { FrameLength } from '../framing/message-framer.ts';
import { methodSpec } from './methods.ts';

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;
/** Type, channel and size before the payload, the end octet after it. */
export const FRAME_OVERHEAD = 8;
export const FRAME_HEADER_BYTES = 7;
/** A frame claiming more than this is not believed (RabbitMQ's frame_max is 128 KiB by default). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** `AMQP` 0 0 9 1: the 0-9-1 protocol header. */
export const PROTOCOL_HEADER = Uint8Array.of(0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1);
export const PROTOCOL_HEADER_BYTES = PROTOCOL_HEADER.length;

/** Whether a frame starts at `at`: yes (its end octet checked), maybe (plausible, its end not here yet), no. */
export type FrameStart = 'yes' | 'maybe' | 'no';

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

/**
 * Whether a frame plausibly starts at `at` in `b`: a method frame of a known method, a basic
 * content header, or a heartbeat (body frames carry nothing to tell them by). 'maybe' when its
 * first bytes fit but its end (or, for a method, its numbers) is past the bytes given.
 */
export function frameStartAt(b: Uint8Array, at: number): FrameStart {
  const left = b.length - at;
  if (left <= 0) return 'maybe';
  const type = b[at]!;
  if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_HEARTBEAT) return 'no';
  if (left < FRAME_HEADER_BYTES) return 'maybe';
  const channel = u16(b, at + 1);
  const size = u32(b, at + 3);
  if (size > MAX_FRAME_BYTES) return 'no';
  if (type === FRAME_HEARTBEAT) {
    if (channel !== 0 || size !== 0) return 'no';
    return left < 8 ? 'maybe' : b[at + 7] === FRAME_END ? 'yes' : 'no';
  }
  const p = at + FRAME_HEADER_BYTES;
  if (type === FRAME_METHOD) {
    if (size < 4) return 'no';
    if (left < FRAME_HEADER_BYTES + 4) return 'maybe';
    if (methodSpec(u16(b, p), u16(b, p + 2)) === undefined) return 'no';
  } else {
    if (size < 14) return 'no';
    if (left < FRAME_HEADER_BYTES + 4) return 'maybe';
    // Only the basic class has content; its weight is always 0.
    if (u16(b, p) !== 60 || u16(b, p + 2) !== 0) return 'no';
  }
  const endAt = p + size;
  if (endAt >= b.length) return 'maybe';
  return b[endAt] === FRAME_END ? 'yes' : 'no';
}

/** Whether `b` starts with (a part of) the protocol header: 'yes' whole, 'maybe' a prefix of it, 'no'. */
export function protocolHeaderAt(b: Uint8Array): FrameStart {
  const n = Math.min(b.length, PROTOCOL_HEADER_BYTES);
  for (let i = 0; i < n; i++) if (b[i] !== PROTOCOL_HEADER[i]) return 'no';
  return n === PROTOCOL_HEADER_BYTES ? 'yes' : 'maybe';
}

/** Any protocol header (`AMQP` then four version octets): another version's, offered by a server refusing ours. */
function anyProtocolHeader(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x41 && b[1] === 0x4d && b[2] === 0x51 && b[3] === 0x50;
}

/** The length of the frame (or protocol header) starting at `head[0]`, for the MessageFramer. */
export function frameLength(head: Uint8Array): FrameLength {
  if (head.length === 0) return 'more';
  const type = head[0]!;
  // 'A' is no frame type: it opens a protocol header.
  if (type === 0x41) return head.length < 4 ? 'more' : anyProtocolHeader(head) ? PROTOCOL_HEADER_BYTES : 'bad';
  if (frameTypeOk(type) === 'bad') return 'bad';
  if (head.length < FRAME_HEADER_BYTES) return 'more';
  const size = u32(head, 3);
  if (size > MAX_FRAME_BYTES) return 'bad';
  return FRAME_OVERHEAD + size;
}

function frameTypeOk(type: number): FrameLength {
  return type === FRAME_METHOD || type === FRAME_HEADER || type === FRAME_BODY || type === FRAME_HEARTBEAT ? 'more' : 'bad';
}

/**
 * The length of the first frame of a direction joined midway, where the bytes may start anywhere:
 * only a frame that plausibly starts here (frameStartAt) is taken, else 'bad' (the framer then
 * looks for one with resyncFrames).
 */
export function firstFrameLength(head: Uint8Array): FrameLength {
  const header = protocolHeaderAt(head);
  if (header === 'yes') return PROTOCOL_HEADER_BYTES;
  if (header === 'maybe' && head.length < PROTOCOL_HEADER_BYTES) return 'more';
  const start = frameStartAt(head, 0);
  if (start === 'no') return 'bad';
  if (start === 'maybe') return head.length >= FRAME_HEADER_BYTES + 4 && head[0] === FRAME_METHOD ? frameLength(head) : 'more';
  return frameLength(head);
}

/**
 * After the framing was lost: where in `window` a frame plausibly starts. A frame whose end octet
 * is in the window must have it; a method frame of a known method whose end is past the window is
 * taken too (its numbers are evidence enough).
 */
export function resyncFrames(window: Uint8Array): number {
  for (let at = 0; at + FRAME_HEADER_BYTES + 1 <= window.length; at++) {
    if (protocolHeaderAt(window.subarray(at)) === 'yes') return at;
    const start = frameStartAt(window, at);
    if (start === 'yes') return at;
    if (start === 'maybe' && window[at] === FRAME_METHOD && window.length - at >= FRAME_HEADER_BYTES + 4) return at;
  }
  return -1;
}
