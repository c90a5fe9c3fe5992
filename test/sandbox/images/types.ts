/**
 * The sandbox's local image store (issue 14), the contract between the store (images/store.ts), the
 * catalogue of images it builds (images/catalog.ts) and the kubelet (cluster.ts) that runs them.
 * Images are root filesystem trees built on this machine from its Debian packages and the Node
 * binary of npm's `node` package, reproducibly, cached by a digest of everything that went in.
 */

/** What an image says about how to run it (the OCI image config's fields the kubelet reads). */
export interface ImageConfig {
  /** ENTRYPOINT; `command` in a container spec replaces it. */
  readonly entrypoint: readonly string[];
  /** CMD; `args` in a container spec replaces it. */
  readonly cmd: readonly string[];
  /** Env as `NAME=value` (PATH at least). */
  readonly env: readonly string[];
  /** USER as numbers (the kubelet's runAsNonRoot check reads the uid). */
  readonly user: { readonly uid: number; readonly gid: number };
  /** WORKDIR ('/' when the image sets none). */
  readonly workingDir: string;
}

export interface SandboxImage {
  /** Full reference as the kubelet reports it: `docker.io/library/node:24-slim`. */
  readonly ref: string;
  /** `sha256:<hex>`: the digest of the image's inputs (package names and versions, file hashes, config). */
  readonly id: string;
  /** The root filesystem tree (read only: containers get an overlay on top of it). */
  readonly rootfs: string;
  readonly config: ImageConfig;
}

/** Builds (first time) or reuses the images; `get` answers only for images that were built. */
export interface ImageStoreApi {
  /** Builds what is missing; `progress` gets one line per step ("building node:24-slim: 31/40 packages"). */
  ensure(progress?: (line: string) => void): Promise<void>;
  /** The built image for a reference as written in a pod spec (`busybox:1.36`), or undefined (ErrImagePull). */
  get(image: string): SandboxImage | undefined;
  /** Every reference of the catalogue, full form. */
  refs(): readonly string[];
}
