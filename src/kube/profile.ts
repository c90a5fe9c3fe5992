/**
 * What each --profile grants the capture container. Capturing with AF_PACKET needs CAP_NET_RAW and
 * nothing else; netadmin adds NET_ADMIN (what `kubectl debug --profile=netadmin` gives) and
 * privileged is the last resort for runtimes that drop capabilities anyway.
 */
export type Profile = 'auto' | 'netadmin' | 'privileged';
export const PROFILES: readonly Profile[] = ['auto', 'netadmin', 'privileged'];

/**
 * `podSecurity` is the enforce level of the pod's namespace when known. Under `baseline`, `auto`
 * adds nothing: baseline forbids adding NET_RAW but not keeping the runtime's defaults, and the
 * common runtimes (containerd, Docker) give root containers NET_RAW by default; if this one does
 * not, the agent says it lacks CAP_NET_RAW.
 */
export function profileAdds(profile: Profile, podSecurity?: string | null): { capabilities: string[]; privileged: boolean } {
  switch (profile) {
    case 'auto':
      return { capabilities: podSecurity === 'baseline' ? [] : ['NET_RAW'], privileged: false };
    case 'netadmin':
      return { capabilities: ['NET_ADMIN', 'NET_RAW'], privileged: false };
    case 'privileged':
      return { capabilities: [], privileged: true };
  }
}
