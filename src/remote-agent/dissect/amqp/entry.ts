/**
 * The Advanced Message Queuing Protocol 0-9-1 entry. PLACEHOLDER of the issue 16 contract: the amqp helper replaces this file
 * with the real shape (Kubeshark's field names where it has them; docs/protocols/amqp.md).
 * Imports only src/model.
 */
import type { EntryEnvelope } from '../../../model/entry-envelope.ts';

export const AMQP_PROTOCOL_NAME = 'amqp';

export interface AmqpRequest {
  readonly [field: string]: unknown;
}

export interface AmqpResponse {
  readonly [field: string]: unknown;
}

export type AmqpEntry = EntryEnvelope<'amqp', AmqpRequest, AmqpResponse>;
