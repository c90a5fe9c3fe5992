/**
 * Why a request still waiting for its response when the connection ends is shown without one: the
 * same words for every protocol, so a user (and a filter on `error.msg`) reads one thing.
 */
import type { EntryError } from '../../../model/entry-envelope.ts';
import type { CloseReason } from '../../tcp/stream.ts';

export function unansweredAtClose(reason: CloseReason): EntryError {
  return { type: 'connection', msg: reason === 'end-of-capture' ? 'capture ended before the response' : `connection closed (${reason}) before the response` };
}
