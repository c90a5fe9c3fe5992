/**
 * Two header lines: where the traffic comes from (for a live tap: context, namespaces and pods,
 * a marker while anything comes unredacted, and one while the API server does not answer), then
 * counts, rate (or, once a source has ended, the time its traffic spans), drops, follow and filter.
 */
import { Box, Text } from 'ink';
import { formatElapsed } from '../pipeline/pod-summary.ts';
import type { ApiOutageView, StoreSnapshot, TapScope } from '../pipeline/store-api.ts';
import { utcClock } from '../pipeline/utc-clock.ts';
import { filterCountsText, undissectedText } from './empty-text.ts';
import { cutText, middleCut } from './entry-row.ts';
import { ACCENT } from './theme.ts';

export interface HeaderProps {
  readonly source: string;
  readonly targets: number;
  readonly snapshot: StoreSnapshot;
  readonly follow: boolean;
  readonly width: number;
}

/** More namespaces than this are summed up as "+N": the line has other things to say. */
const MAX_NAMESPACES = 3;

function rate(perSec: number): string {
  return perSec >= 100 ? String(Math.round(perSec)) : perSec.toFixed(1);
}

/** "ctx sandbox · ns shop · 3 pods"; "all namespaces" for -A. */
export function scopeText(scope: TapScope): string {
  const { namespaces } = scope;
  let ns: string;
  if (namespaces.length === 0) ns = 'all namespaces';
  else if (namespaces.length <= MAX_NAMESPACES) ns = `ns ${namespaces.join(',')}`;
  else ns = `ns ${namespaces.slice(0, MAX_NAMESPACES).join(',')} +${namespaces.length - MAX_NAMESPACES}`;
  return `ctx ${scope.context} · ${ns} · ${scope.pods} pod${scope.pods === 1 ? '' : 's'}`;
}

/**
 * The rate while traffic may still come; once the source has ended a rate only decays to 0, so the
 * time from the first to the last entry (capture time) says more: "span 5.5s".
 */
export function flowText(snapshot: StoreSnapshot): string | undefined {
  if (!snapshot.ended) return `${rate(snapshot.entriesPerSec)}/s`;
  const span = snapshot.timeSpan;
  return span === undefined ? undefined : `span ${formatElapsed(span.lastMs - span.firstMs)}`;
}

/** Lengths of the fixed parts of the first line, for the source's room. */
const PRODUCT = 'kubectl-shark';
const SEPARATOR = ' │ ';
const ENDED = 'source ended';
/** The source is shortened to make room for what follows it, but never below this. */
const MIN_SOURCE = 12;
/** Made display-safe (and so measured) only this far: no terminal is wider. */
const MAX_SOURCE = 1024;

/** "API server unreachable since 12:03:04 UTC, retrying in 8 s". */
export function outageText(outage: ApiOutageView): string {
  const seconds = Math.ceil(outage.retryInMs / 1000);
  return `API server unreachable since ${utcClock(outage.sinceMs)}, ${seconds > 0 ? `retrying in ${seconds} s` : 'retrying now'}`;
}

/** Traffic the source saw but does not dissect: yellow, as something the user should know. */
function UndissectedSegment({ text }: { readonly text: string }) {
  if (text === '') return null;
  return (
    <Text>
      <Text color="gray"> │ </Text>
      <Text color="yellow">{text}</Text>
    </Text>
  );
}

export function Header({ source, targets, snapshot, follow, width }: HeaderProps) {
  const state = follow ? 'FOLLOW' : 'PAUSED';
  // Each part is cut to the line: what does not fit is cut off anyway, and a notice can carry an
  // agent's or API server's text (display-safe through cutText, like every cell).
  const fit = (text: string): string => cutText(text, width);
  const where = snapshot.scope !== undefined ? fit(scopeText(snapshot.scope)) : `targets ${targets}`;
  const markers = (snapshot.redactionOff === true ? ' REDACTION OFF '.length + 1 : 0) + (snapshot.apiOutage !== undefined ? outageText(snapshot.apiOutage).length + 3 : 0);
  // The source (a file path can be long) gives way, shortened in the middle, so that where the
  // traffic comes from and "source ended" still fit on an 80-column line, and so does the latest
  // undissected-traffic segment and notice when shortening the source is enough to show them whole
  // (else they are cut anyway).
  const room = width - PRODUCT.length - markers - 1 - SEPARATOR.length - where.length - (snapshot.ended ? SEPARATOR.length + ENDED.length : 0);
  const undissected = undissectedText(snapshot);
  const extras = (undissected === '' ? 0 : SEPARATOR.length + undissected.length) + (snapshot.notice === undefined ? 0 : SEPARATOR.length + snapshot.notice.length);
  const besideNotice = room - extras;
  const sourceRoom = besideNotice >= MIN_SOURCE ? besideNotice : Math.max(MIN_SOURCE, room);
  const flow = flowText(snapshot);
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold color={ACCENT}>kubectl-shark</Text>
        {/* Before the source, so a narrow terminal cuts anything but this. */}
        {snapshot.redactionOff === true ? (
          <Text>
            {' '}
            <Text bold color="white" backgroundColor="red"> REDACTION OFF </Text>
          </Text>
        ) : null}
        {/* Also before the source: while it lasts, nothing on screen is live. */}
        {snapshot.apiOutage !== undefined ? (
          <Text>
            {' '}
            <Text bold color="white" backgroundColor="red"> {outageText(snapshot.apiOutage)} </Text>
          </Text>
        ) : null}
        <Text> {middleCut(cutText(source, MAX_SOURCE), sourceRoom)}</Text>
        <Text color="gray"> │ </Text>
        <Text>{where}</Text>
        {snapshot.ended ? <Text color="gray"> │ source ended</Text> : null}
        <UndissectedSegment text={undissected} />
        {snapshot.notice !== undefined ? (
          <Text>
            <Text color="gray"> │ </Text>
            <Text color="yellow">{fit(snapshot.notice)}</Text>
          </Text>
        ) : null}
      </Text>
      <Text wrap="truncate">
        <Text>entries </Text>
        <Text bold>{snapshot.shown}</Text>
        <Text>/{snapshot.total}</Text>
        {flow !== undefined ? <Text color="gray"> │ </Text> : null}
        {flow !== undefined ? <Text>{flow}</Text> : null}
        <Text color="gray"> │ </Text>
        <Text color={snapshot.drops > 0 ? 'red' : undefined}>drops {snapshot.drops}</Text>
        {/* Only when it happened: an 80-column line has no room for "(evicted 0)" beside a filter. */}
        {snapshot.evicted > 0 ? <Text color="yellow"> (evicted {snapshot.evicted})</Text> : null}
        {/* Bodies past the side store's budget: the detail pane says so on each; a filter that read one is told here. */}
        {snapshot.bodies !== undefined && snapshot.bodies.dropped > 0 ? (
          <Text color="yellow"> (bodies dropped {snapshot.bodies.dropped}{snapshot.filterReadDropped !== undefined ? `, ${snapshot.filterReadDropped} filtered without theirs` : ''})</Text>
        ) : null}
        <Text color="gray"> │ </Text>
        <Text color={follow ? 'green' : 'yellow'} bold>{state}</Text>
        <Text color="gray"> │ </Text>
        <Text>filter: </Text>
        {snapshot.filter === '' ? <Text color="gray">none</Text> : <Text color="green">{fit(snapshot.filter)}</Text>}
        {snapshot.filter === '' ? null : <Text color={snapshot.shown === 0 ? 'yellow' : 'gray'}> ({filterCountsText(snapshot)})</Text>}
      </Text>
    </Box>
  );
}
