/**
 * Body bytes kept per message unless `--max-body` says otherwise: one default for the dissectors
 * (`read`, in-process), the agent's flag schema (`tap`, in the pod) and the CLI's help. 64 KiB
 * keeps the JSON and form bodies of typical API calls whole while a stream of large downloads
 * costs the exec channel little.
 */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
