/**
 * Process exit codes shared by every subcommand: the one source of the top-level help's list
 * (EXIT_CODE_MEANINGS) and of README's tables (test/e2e/cli-consistency.test.ts compares them).
 */
import type { SharkErrorCode } from '../src/model/errors.ts';

export const EXIT_OK = 0;
/** Runtime failure: I/O error, unreachable cluster, ... */
export const EXIT_FAILURE = 1;
/** The user asked for something we cannot do: bad flag, not a capture file, unknown link type. */
export const EXIT_USAGE = 2;
/** `tap`: no running pod matched the pod regex / selector in the namespaces searched. */
export const EXIT_NO_TARGETS = 3;
/** `tap`: the API server could not be reached (connection refused, DNS, TLS, timeout). */
export const EXIT_UNREACHABLE = 4;
/** `tap`: the API server rejected the credentials (401). */
export const EXIT_UNAUTHORIZED = 5;
/** `tap`: RBAC forbids something tap needs (the message names the permission). */
export const EXIT_FORBIDDEN = 6;
/** `tap`: the namespace's PodSecurity level forbids the capture container's capabilities. */
export const EXIT_POD_SECURITY = 7;
/** `tap`: the cluster does not serve pods/ephemeralcontainers. */
export const EXIT_EPHEMERAL_DISABLED = 8;
/** `tap`: the agent image could not be pulled. */
export const EXIT_IMAGE_PULL = 9;
/** `tap`: the capture container did not start (timeout, start error, terminated). */
export const EXIT_START_FAILED = 10;
/** `tap`: the agent bundle arrived altered in the pod (sha256 mismatch); nothing was run. */
export const EXIT_AGENT_INTEGRITY = 11;
/** `tap`: stopped as asked, but with pods whose capture had failed and not come back (the summary names them). */
export const EXIT_PODS_FAILED = 12;
/** `tap`: the pod has too little free memory for the agent (see --max-memory, --force). */
export const EXIT_MEMORY_HEADROOM = 13;

/** Every exit code and what it means, in a phrase short enough for an 80-column help screen. */
export const EXIT_CODE_MEANINGS: ReadonlyArray<readonly [code: number, meaning: string]> = [
  [EXIT_OK, 'success (tap: stopped as asked, or --dry-run)'],
  [EXIT_FAILURE, 'runtime failure: a file cannot be read, another API error'],
  [EXIT_USAGE, 'usage: bad flag or value, not a capture file, kubeconfig problem'],
  [EXIT_NO_TARGETS, 'tap: no running pod matches, or the namespace does not exist'],
  [EXIT_UNREACHABLE, 'tap: the cluster is unreachable'],
  [EXIT_UNAUTHORIZED, 'tap: the credentials were rejected (401)'],
  [EXIT_FORBIDDEN, 'tap: RBAC forbids something tap needs (named)'],
  [EXIT_POD_SECURITY, "tap: the namespace's PodSecurity level forbids the profile"],
  [EXIT_EPHEMERAL_DISABLED, 'tap: ephemeral containers are disabled'],
  [EXIT_IMAGE_PULL, 'tap: the agent image cannot be pulled'],
  [EXIT_START_FAILED, 'tap: the capture container did not start'],
  [EXIT_AGENT_INTEGRITY, 'tap: the agent arrived altered in the pod; nothing was run'],
  [EXIT_PODS_FAILED, "tap: stopped, but some pods' capture had failed"],
  [EXIT_MEMORY_HEADROOM, 'tap: no target has room for the agent (--force, --max-memory)'],
];

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
    case 'KUBE_API':
    case 'KUBE_AGENT_FAILED':
      return EXIT_FAILURE;
    case 'KUBE_CONFIG':
      return EXIT_USAGE;
    case 'KUBE_NO_TARGETS':
      return EXIT_NO_TARGETS;
    case 'KUBE_UNREACHABLE':
      return EXIT_UNREACHABLE;
    case 'KUBE_UNAUTHORIZED':
      return EXIT_UNAUTHORIZED;
    case 'KUBE_FORBIDDEN':
      return EXIT_FORBIDDEN;
    case 'KUBE_POD_SECURITY':
      return EXIT_POD_SECURITY;
    case 'KUBE_EPHEMERAL_DISABLED':
      return EXIT_EPHEMERAL_DISABLED;
    case 'KUBE_IMAGE_PULL':
      return EXIT_IMAGE_PULL;
    case 'KUBE_START_FAILED':
      return EXIT_START_FAILED;
    case 'KUBE_AGENT_INTEGRITY':
      return EXIT_AGENT_INTEGRITY;
    case 'KUBE_MEMORY_HEADROOM':
      return EXIT_MEMORY_HEADROOM;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}
