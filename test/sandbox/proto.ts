/**
 * Just enough of the Kubernetes protobuf encoding to read a SelfSubjectAccessReview: kubectl's typed
 * clients (e.g. `auth can-i`) send `application/vnd.kubernetes.protobuf` bodies on create.
 */

type Fields = Map<number, Buffer[]>;

function varint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}

/** Length-delimited fields by number (other wire types are skipped). */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = varint(buf, pos);
    pos = p1;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      pos = varint(buf, pos)[1];
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else if (wire === 2) {
      const [len, p2] = varint(buf, pos);
      const value = buf.subarray(p2, p2 + len);
      pos = p2 + len;
      out.set(field, [...(out.get(field) ?? []), value]);
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

function str(f: Fields, n: number): string | undefined {
  const v = f.get(n)?.[0];
  return v === undefined ? undefined : v.toString('utf8');
}

export interface AccessReviewSpec {
  resourceAttributes?: { namespace?: string; verb?: string; group?: string; version?: string; resource?: string; subresource?: string; name?: string };
  nonResourceAttributes?: { path?: string; verb?: string };
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The spec of a protobuf-encoded SelfSubjectAccessReview (runtime.Unknown envelope). */
export function decodeAccessReview(body: Buffer): AccessReviewSpec {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('not a Kubernetes protobuf message');
  const unknown = fields(body.subarray(4));
  const raw = unknown.get(2)?.[0] ?? Buffer.alloc(0);
  const review = fields(raw);
  const spec = fields(review.get(2)?.[0] ?? Buffer.alloc(0));
  const out: AccessReviewSpec = {};
  const ra = spec.get(1)?.[0];
  if (ra) {
    const f = fields(ra);
    out.resourceAttributes = {};
    const names = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'] as const;
    names.forEach((name, i) => {
      const v = str(f, i + 1);
      if (v !== undefined) out.resourceAttributes![name] = v;
    });
  }
  const nra = spec.get(2)?.[0];
  if (nra) {
    const f = fields(nra);
    out.nonResourceAttributes = {};
    const path = str(f, 1);
    const verb = str(f, 2);
    if (path !== undefined) out.nonResourceAttributes.path = path;
    if (verb !== undefined) out.nonResourceAttributes.verb = verb;
  }
  return out;
}
