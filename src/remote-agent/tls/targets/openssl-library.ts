/**
 * OpenSSL, dynamically linked: the probes go on libssl's exported SSL_write/SSL_read (every
 * version) and SSL_write_ex/SSL_read_ex (1.1.1 and later), found in .dynsym, at their file
 * offsets. Entry and return (uretprobe: C stacks do not move).
 */
import type { Elf } from '../elf.ts';
import type { TlsUprobeProgram } from '../hooks.ts';

/** The libssl sonames probed: OpenSSL 1.1.x and 3.x (libssl3.so is NSS, not OpenSSL). */
export const LIBSSL_NAME = /^libssl\.so\.(?:3|1\.1)$/;
/** libcrypto of the same versions: it holds OpenSSL's version text. */
export const LIBCRYPTO_NAME = /^libcrypto\.so\.(?:3|1\.1)$/;

/** The hooked functions, in report order, with their entry and return programs. */
export const OPENSSL_FUNCTIONS = [
  { symbol: 'SSL_read', entry: 'ssl_read_entry', ret: 'ssl_read_return', required: true },
  { symbol: 'SSL_write', entry: 'ssl_write_entry', ret: 'ssl_write_return', required: true },
  { symbol: 'SSL_read_ex', entry: 'ssl_read_ex_entry', ret: 'ssl_read_ex_return', required: false },
  { symbol: 'SSL_write_ex', entry: 'ssl_write_ex_entry', ret: 'ssl_write_ex_return', required: false },
] as const satisfies readonly { symbol: string; entry: TlsUprobeProgram; ret: TlsUprobeProgram; required: boolean }[];

export type OpenSslSymbol = (typeof OPENSSL_FUNCTIONS)[number]['symbol'];

export type LibsslInspection =
  | { readonly ok: true; readonly offsets: ReadonlyMap<OpenSslSymbol, number> }
  | { readonly ok: false; readonly reason: string };

/** The file offsets of the SSL functions libssl exports. May throw ElfError. */
export function inspectLibssl(elf: Elf, soname: string): LibsslInspection {
  const symbols = elf.findSymbols(
    '.dynsym',
    OPENSSL_FUNCTIONS.map((f) => f.symbol),
  );
  const offsets = new Map<OpenSslSymbol, number>();
  for (const f of OPENSSL_FUNCTIONS) {
    const sym = symbols.get(f.symbol);
    const offset = sym === undefined ? null : elf.fileOffsetOf(sym.value);
    if (offset === null) {
      if (f.required) return { ok: false, reason: `${soname} exports no ${f.symbol} with code in the file: not hooked` };
      continue;
    }
    offsets.set(f.symbol, offset);
  }
  return { ok: true, offsets };
}

/** Bytes of .rodata searched for the version text (libcrypto's is a few hundred KB). */
const MAX_RODATA_BYTES = 8 * 1024 * 1024;
/** OPENSSL_VERSION_TEXT: "OpenSSL 3.0.22 25 Aug 2026", "OpenSSL 1.1.1w  11 Sep 2023". */
const VERSION_TEXT = /^OpenSSL (\d+\.\d+\.\d+[a-z]{0,2}) +\d{1,2} [A-Z][a-z]{2} \d{4}/;
const MARK = Buffer.from('OpenSSL ', 'latin1');

/** "OpenSSL 3.0.22" from libcrypto's read-only data, or null. May throw ElfError. */
export function openSslVersion(libcrypto: Elf): string | null {
  const rodata = libcrypto.section('.rodata');
  if (rodata === undefined || rodata.size > MAX_RODATA_BYTES) return null;
  const bytes = Buffer.from(libcrypto.sectionData(rodata));
  for (let at = bytes.indexOf(MARK); at !== -1; at = bytes.indexOf(MARK, at + 1)) {
    const m = VERSION_TEXT.exec(bytes.toString('latin1', at, Math.min(bytes.length, at + 40)));
    if (m !== null) return `OpenSSL ${m[1]}`;
  }
  return null;
}

/** When libcrypto cannot tell: the soname's major version ("OpenSSL 3", "OpenSSL 1.1"). */
export function versionFromSoname(soname: string): string {
  return `OpenSSL ${soname.replace(/^libssl\.so\./, '')}`;
}
