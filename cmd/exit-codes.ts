/** Process exit codes shared by every subcommand (documented in README "Exit codes"). */
import type { SharkErrorCode } from '../src/model/errors.ts';

export const EXIT_OK = 0;
/** Runtime failure: I/O error, unreachable cluster, ... */
export const EXIT_FAILURE = 1;
/** The user asked for something we cannot do: bad flag, not a capture file, unknown link type. */
export const EXIT_USAGE = 2;

export function exitCodeFor(code: SharkErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'CAPTURE_NOT_A_CAPTURE':
    case 'CAPTURE_UNKNOWN_LINK_TYPE':
    case 'CAPTURE_BAD_BLOCK':
      return EXIT_USAGE;
    case 'CAPTURE_TRUNCATED':
      return EXIT_OK;
    case 'IO_ERROR':
    case 'CAPTURE_PERMISSION':
    case 'CAPTURE_NO_INTERFACE':
    case 'CAPTURE_SOCKET':
    case 'FFI_UNAVAILABLE':
      return EXIT_FAILURE;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}
