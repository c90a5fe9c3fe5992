/**
 * Where bpf/tls.bpf.o is at run time. From source (tsx) it is the committed object in bpf/; in the
 * agent bundle, scripts/build-agent.ts copies it next to agent.js (dist/agent/tls.bpf.o), and the
 * bundle's import.meta.url is agent.js's. The first that exists wins.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BPF_OBJECT_NAME = 'tls.bpf.o';

/** Candidate paths, the bundle's folder first. */
export function bpfObjectCandidates(moduleUrl: string = import.meta.url): string[] {
  return [
    fileURLToPath(new URL(`./${BPF_OBJECT_NAME}`, moduleUrl)),
    // src/remote-agent/tls/probes/ -> the repository's bpf/
    fileURLToPath(new URL(`../../../../bpf/${BPF_OBJECT_NAME}`, moduleUrl)),
  ];
}

/** The object's path, or null when none of the candidates exists. */
export function findBpfObject(moduleUrl: string = import.meta.url): string | null {
  return bpfObjectCandidates(moduleUrl).find((p) => existsSync(p)) ?? null;
}
