// Rollup as a normal user has it: node-resolve to find packages in node_modules. The worker is an entry of its own
// (Rollup does not follow `new Worker(new URL(...))`), so that `new URL('./worker.js', import.meta.url)` finds it.
import { nodeResolve } from '@rollup/plugin-node-resolve';

export default {
  input: ['main.js', 'worker.js'],
  output: { dir: 'dist', format: 'es' },
  plugins: [nodeResolve()],
};
