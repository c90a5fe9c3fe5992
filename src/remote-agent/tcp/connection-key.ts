/**
 * Identity of a TCP connection: the unordered 4-tuple, so both directions find the same entry.
 */
export function connectionKey(ipA: string, portA: number, ipB: string, portB: number): string {
  // Order the two endpoints canonically; ports first because comparing numbers is cheaper.
  const aFirst = portA < portB || (portA === portB && ipA <= ipB);
  return aFirst ? `${ipA}|${portA}|${ipB}|${portB}` : `${ipB}|${portB}|${ipA}|${portA}`;
}
