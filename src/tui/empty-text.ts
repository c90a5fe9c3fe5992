/**
 * What the entry list says when it has no row to show, so that silence is honest: a source with
 * traffic we do not dissect says which (instead of "waiting for traffic"), and a filter that
 * matches nothing says how many entries it was offered.
 */
import { formatCount, formatFilterOutcome } from '../model/count-text.ts';
import { formatUndissected, hasUndissected } from '../model/undissected.ts';
import { lostExchangesBrief } from '../pipeline/lost-exchanges.ts';
import type { StoreSnapshot } from '../pipeline/store-api.ts';

/** "not dissected: 3 TLS connections, 4 DNS datagrams", or "" when there is none. */
export function undissectedText(snapshot: Pick<StoreSnapshot, 'undissected'>): string {
  const counts = snapshot.undissected;
  return counts !== undefined && hasUndissected(counts) ? `not dissected: ${formatUndissected(counts)}` : '';
}

/** "1,204 seen, 0 matched the filter" while a filter is active, else "". */
export function filterOutcomeText(snapshot: Pick<StoreSnapshot, 'filter' | 'total' | 'shown'>): string {
  return snapshot.filter === '' ? '' : formatFilterOutcome(snapshot.total, snapshot.shown);
}

/** The same, short, for after the query in the header: "1,204 seen, 0 matched". */
export function filterCountsText(snapshot: Pick<StoreSnapshot, 'filter' | 'total' | 'shown'>): string {
  return snapshot.filter === '' ? '' : `${formatCount(snapshot.total)} seen, ${formatCount(snapshot.shown)} matched`;
}

export function emptyListText(snapshot: StoreSnapshot): string {
  if (snapshot.total === 0) {
    // Whatever the protocols dissected: the list names none of them (their descriptors do).
    const seen = [undissectedText(snapshot), lostExchangesBrief(snapshot.protocols)].filter((s) => s !== '');
    if (seen.length > 0) return `No entries; ${seen.join('; ')}`;
    // Never "waiting" once the source has ended: nothing more will come.
    return snapshot.ended ? 'The source ended without any entries.' : 'Waiting for traffic…';
  }
  return `No entry matches the filter (${filterOutcomeText(snapshot)}).`;
}
