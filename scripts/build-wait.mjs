// Assembles include/biasrc_wait.wat (the reference env.biasrc_wait for hosts without JavaScript) into
// build/biasrc_wait.wasm with binaryen, which assemblyscript already brings.
import binaryen from 'binaryen';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const module = binaryen.parseText(readFileSync(join(root, 'include', 'biasrc_wait.wat'), 'utf8'));
module.setFeatures(binaryen.Features.MVP | binaryen.Features.Atomics);
if (!module.validate()) throw new Error('build-wait: include/biasrc_wait.wat does not validate');
const bytes = module.emitBinary();
module.dispose();
mkdirSync(join(root, 'build'), { recursive: true });
writeFileSync(join(root, 'build', 'biasrc_wait.wasm'), bytes);
