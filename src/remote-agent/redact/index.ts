/** Redaction at the source: sensitive values are replaced before an entry leaves the agent. */
export { DEFAULT_SENSITIVE_KEYS, QUERY_ONLY_KEYS, REDACTED, normaliseKey, splitKeyList } from './keys.ts';
export { EntryRedactor, type RedactionConfig } from './entry-redactor.ts';
