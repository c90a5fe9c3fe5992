/**
 * What the gRPC variant reads of the entry that carries a call: the HTTP/2 entry
 * (dissect/http1/entry.ts), described here by the fields it uses, so this folder's descriptor
 * imports only src/model and its own folder. The registry composes the variant with the HTTP
 * descriptor (src/model/protocol-variants.ts), and the compiler checks there that HTTP entries have
 * this shape.
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';
import type { GrpcCall } from './entry.ts';

/** A body as HTTP keeps it: the de-framed bytes of the call's messages (base64 when not UTF-8). */
export interface CarriedBody {
  mimeType: string;
  text: string;
  encoding?: 'base64';
}

export type GrpcCarrier = EntryEnvelope<string, { postData: CarriedBody | null }, { readonly status: number; content: CarriedBody & { readonly size: number } }> & {
  grpc?: GrpcCall;
};
