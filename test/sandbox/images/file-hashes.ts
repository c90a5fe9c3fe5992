/**
 * sha256 of the files that go into images, remembered in the cache folder: an image id needs the
 * hash of Node's 120 MB binary, and hashing it on every sandbox start would cost most of a second.
 * A file counts as unchanged while its device, inode, size, mtime and ctime are (ctime cannot be
 * set back by anyone writing the file).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { rename, stat, writeFile } from 'node:fs/promises';

export class FileHashes {
  private readonly known = new Map<string, string>();
  private readonly pending = new Map<string, Promise<string>>();
  private dirty = false;
  private readonly file: string | undefined;

  /** `file`: where they are kept between processes (none: this process only). */
  constructor(file?: string) {
    this.file = file;
    if (file === undefined) return;
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (saved !== null && typeof saved === 'object') {
        for (const [key, hash] of Object.entries(saved)) if (typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash)) this.known.set(key, hash);
      }
    } catch {
      /* none yet, or unreadable: hash again */
    }
  }

  async sha256(path: string): Promise<string> {
    const st = await stat(path, { bigint: true });
    const key = [path, st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(' ');
    const known = this.known.get(key);
    if (known !== undefined) return known;
    let hashing = this.pending.get(key);
    if (hashing === undefined) {
      hashing = new Promise<string>((resolve, reject) => {
        const h = createHash('sha256');
        createReadStream(path)
          .on('data', (chunk) => h.update(chunk))
          .on('end', () => resolve(h.digest('hex')))
          .on('error', reject);
      });
      this.pending.set(key, hashing);
    }
    const hash = await hashing;
    this.known.set(key, hash);
    this.dirty = true;
    return hash;
  }

  /** Writes them for the next process (whole: a temp file renamed over the old one). */
  async save(): Promise<void> {
    if (this.file === undefined || !this.dirty) return;
    // Per writer, not per process: two stores of one process (or two saves) must not share a temp file.
    const temp = `${this.file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, `${JSON.stringify(Object.fromEntries(this.known))}\n`);
    await rename(temp, this.file);
    this.dirty = false;
  }
}
