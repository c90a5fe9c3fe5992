/** Terminal columns and rows, updated on resize (a fixed size, for tests, wins). */
import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

/** Ink types its stdout as any writable stream; a terminal's also has a size (a pipe's has none). */
interface MaybeSizedStream {
  readonly columns?: number;
  readonly rows?: number;
}

/**
 * Not Ink's own useWindowSize: without a size on stdout it asks the controlling terminal through
 * `terminal-size`, which may run `tput` or `resize`; a piped or tested screen gets 80x24 here.
 */
function sizeOf(stream: MaybeSizedStream): TerminalSize {
  return { columns: stream.columns || 80, rows: stream.rows || 24 };
}

export function useTerminalSize(fixed?: TerminalSize): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState<TerminalSize>(() => sizeOf(stdout as MaybeSizedStream));
  useEffect(() => {
    if (fixed !== undefined) return undefined;
    const onResize = (): void => setSize(sizeOf(stdout as MaybeSizedStream));
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}
