/**
 * What each --profile grants the capture container. Capturing with AF_PACKET needs CAP_NET_RAW and
 * nothing else; netadmin adds NET_ADMIN (what `kubectl debug --profile=netadmin` gives) and
 * privileged is the last resort for runtimes that drop capabilities anyway.
 */
export type Profile = 'auto' | 'netadmin' | 'privileged';
export const PROFILES: readonly Profile[] = ['auto', 'netadmin', 'privileged'];

export function profileAdds(profile: Profile): { capabilities: string[]; privileged: boolean } {
  switch (profile) {
    case 'auto':
      return { capabilities: ['NET_RAW'], privileged: false };
    case 'netadmin':
      return { capabilities: ['NET_ADMIN', 'NET_RAW'], privileged: false };
    case 'privileged':
      return { capabilities: [], privileged: true };
  }
}
