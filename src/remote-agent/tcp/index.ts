/** TCP reassembly: segments in, per-direction in-order byte streams (with explicit gaps) out. */
export { DEFAULT_TCP_LIMITS, TcpAssembler, type TcpLimits } from './assembler.ts';
export { seqAdd, seqDiff } from './sequence.ts';
export { connectionLabel } from './stream.ts';
export type {
  CloseReason,
  ConnectionInfo,
  Direction,
  SocketAddress,
  StreamFactory,
  StreamHandler,
} from './stream.ts';
