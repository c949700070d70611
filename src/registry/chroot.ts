// The chroot of the connect string (src/config/connect-string.ts) is ours to apply: the
// client talks to the servers in full paths, and these two map them to and from the chroot.

/** Joins a path below the chroot: ('/a', '/') → '/a', ('', '/x') → '/x'. */
export function underChroot(chroot: string, path: string): string {
  if (chroot === '') return path;
  return path === '/' ? chroot : chroot + path;
}

/** The inverse of underChroot, for paths the server reports in watch events. */
export function stripChroot(chroot: string, path: string): string {
  if (chroot === '') return path;
  if (path === chroot) return '/';
  return path.startsWith(chroot + '/') ? path.slice(chroot.length) : path;
}
