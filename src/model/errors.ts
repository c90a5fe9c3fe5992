/**
 * Errors as values with a stable code. `cmd/` maps codes to exit codes and hints; the wording of
 * messages may change freely, the codes may not.
 */
export type SharkErrorCode =
  | 'CAPTURE_NOT_A_CAPTURE'
  | 'CAPTURE_UNKNOWN_LINK_TYPE'
  | 'CAPTURE_TRUNCATED'
  | 'CAPTURE_BAD_BLOCK'
  | 'CAPTURE_PERMISSION'
  | 'CAPTURE_NO_INTERFACE'
  | 'CAPTURE_SOCKET'
  | 'FFI_UNAVAILABLE'
  | 'IO_ERROR'
  | 'USAGE'
  // `tap`: one code per cause a user acts on differently (cmd/exit-codes.ts gives each its exit code).
  | 'KUBE_CONFIG'
  | 'KUBE_NO_TARGETS'
  | 'KUBE_UNREACHABLE'
  | 'KUBE_UNAUTHORIZED'
  | 'KUBE_FORBIDDEN'
  | 'KUBE_POD_SECURITY'
  | 'KUBE_EPHEMERAL_DISABLED'
  | 'KUBE_IMAGE_PULL'
  | 'KUBE_START_FAILED'
  | 'KUBE_MEMORY_HEADROOM'
  | 'KUBE_API'
  | 'KUBE_AGENT_FAILED'
  /** The agent bundle that reached the pod is not the one sent (sha256 checked in the pod). */
  | 'KUBE_AGENT_INTEGRITY';

export class SharkError extends Error {
  readonly code: SharkErrorCode;
  readonly context: Readonly<Record<string, string | number>>;

  constructor(code: SharkErrorCode, message: string, context: Record<string, string | number> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SharkError';
    this.code = code;
    this.context = context;
  }
}
