/**
 * The repository root, for finding dist/, demo/ and the console's static files. In the node
 * bundle too: build-node.ts keeps `import.meta.url` naming this source file.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
