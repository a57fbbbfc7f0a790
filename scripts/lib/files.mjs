// For the build scripts: is an output older than its inputs?
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest modification time (ms) of a file, or of any file below a folder; 0 if it does not exist. */
export function newestMtime(root, path) {
  const full = join(root, path);
  if (!existsSync(full)) return 0;
  const st = statSync(full);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(full).map((entry) => newestMtime(root, join(path, entry))));
}
