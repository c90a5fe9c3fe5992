/**
 * Hand-written readers for the envelope paths queries use most (a protocol's own are in its
 * descriptor's `kfl.readers`, merged in paths.ts). Each is its own function literal on
 * purpose: V8 keeps property-access feedback per literal, so a reader shared by every path (keys
 * in variables) turns megamorphic once a process has compiled a few different queries, and
 * `response.status >= 500` drops from ~30M to ~10M tests/s. Written out once from the entry model:
 * no code is generated at run time.
 */
import type { Getter } from './values.ts';
import { isObject as o } from './values.ts';

export const DIRECT_READERS: ReadonlyMap<string, Getter> = new Map<string, Getter>([
  ['id', (r) => (o(r) ? (r.id ?? null) : null)],
  ['protocol', (r) => (o(r) ? (r.protocol ?? null) : null)],
  ['timestamp', (r) => (o(r) ? (r.timestamp ?? null) : null)],
  ['startTime', (r) => (o(r) ? (r.startTime ?? null) : null)],
  ['elapsedTime', (r) => (o(r) ? (r.elapsedTime ?? null) : null)],
  ['requestSize', (r) => (o(r) ? (r.requestSize ?? null) : null)],
  ['responseSize', (r) => (o(r) ? (r.responseSize ?? null) : null)],
  ['tls', (r) => (o(r) ? (r.tls ?? null) : null)],
  ['request', (r) => (o(r) ? (r.request ?? null) : null)],
  ['response', (r) => (o(r) ? (r.response ?? null) : null)],
  ['error', (r) => (o(r) ? (r.error ?? null) : null)],
  ['src', (r) => (o(r) ? (r.src ?? null) : null)],
  ['dst', (r) => (o(r) ? (r.dst ?? null) : null)],
  ['protocol.name', (r) => {
    const a = o(r) ? r.protocol : null;
    return o(a) ? (a.name ?? null) : null;
  }],
  ['protocol.version', (r) => {
    const a = o(r) ? r.protocol : null;
    return o(a) ? (a.version ?? null) : null;
  }],
  ['protocol.abbr', (r) => {
    const a = o(r) ? r.protocol : null;
    return o(a) ? (a.abbr ?? null) : null;
  }],
  ['src.ip', (r) => {
    const a = o(r) ? r.src : null;
    return o(a) ? (a.ip ?? null) : null;
  }],
  ['src.port', (r) => {
    const a = o(r) ? r.src : null;
    return o(a) ? (a.port ?? null) : null;
  }],
  ['src.name', (r) => {
    const a = o(r) ? r.src : null;
    return o(a) ? (a.name ?? null) : null;
  }],
  ['src.namespace', (r) => {
    const a = o(r) ? r.src : null;
    return o(a) ? (a.namespace ?? null) : null;
  }],
  ['dst.ip', (r) => {
    const a = o(r) ? r.dst : null;
    return o(a) ? (a.ip ?? null) : null;
  }],
  ['dst.port', (r) => {
    const a = o(r) ? r.dst : null;
    return o(a) ? (a.port ?? null) : null;
  }],
  ['dst.name', (r) => {
    const a = o(r) ? r.dst : null;
    return o(a) ? (a.name ?? null) : null;
  }],
  ['dst.namespace', (r) => {
    const a = o(r) ? r.dst : null;
    return o(a) ? (a.namespace ?? null) : null;
  }],
  ['error.type', (r) => {
    const a = o(r) ? r.error : null;
    return o(a) ? (a.type ?? null) : null;
  }],
  ['error.msg', (r) => {
    const a = o(r) ? r.error : null;
    return o(a) ? (a.msg ?? null) : null;
  }],
]);
