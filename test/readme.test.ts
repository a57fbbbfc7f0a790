// The README is a promise: its examples are the files under test/fixtures/ (shown verbatim), they print what it
// says, and its tables name what the package has. (The browser example: test/bundlers.test.ts; the shapes example's
// output: test/shapes.test.ts.)
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { STAT_NAMES } from 'biasrc';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const fixture = (path: string) => readFileSync(new URL(`./fixtures/${path}`, import.meta.url), 'utf8');

async function run(path: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [new URL(`./fixtures/${path}`, import.meta.url).pathname]);
  return stdout;
}

/** The rows of the README table that follows the line `| ${header} | ...`: each row's first cell, unquoted. */
function tableFirstColumn(header: string): string[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${header} |`));
  expect(start, `a table headed "${header}"`).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!.split('|')[1]!.trim().replace(/`/g, ''));
  return rows;
}

describe('README', () => {
  it.each([
    'readme/main.mjs', 'readme/worker.mjs',
    'readme-shapes/main.mjs', 'readme-shapes/shapes.mjs', 'readme-shapes/worker.mjs',
    'readme-refs/cycles.mjs', 'readme-refs/weak.mjs', 'readme-refs/stale.mjs',
  ])('shows %s verbatim', (path) => {
    expect(readme).toContain('```js\n' + fixture(path) + '```');
  });

  it('the raw-objects example prints what the README says', async () => {
    expect(await run('readme/main.mjs')).toBe('worker 2 summed the list: 6\nobjects still live: 0\n');
  });

  it('the cycle, weak reference and stale handle examples print what the README says', async () => {
    expect(await run('readme-refs/cycles.mjs')).toBe('live: 2\ncollectCycles freed 2\nlive: 0\n');
    expect(readme).toContain('prints `live: 2`, `collectCycles freed 2`, `live: 0`.');
    expect(await run('readme-refs/weak.mjs')).toBe('upgrade while alive: true\nupgrade after the last release: 0\n');
    expect(readme).toContain('prints `upgrade while alive: true`, `upgrade after the last release: 0`.');
    const stale = await run('readme-refs/stale.mjs');
    expect(stale).toBe('same block: true\nincref(handle 0x100010040): the object was already freed (EFREED)\n');
    expect(readme).toContain('prints `same block: true`, then `incref(handle 0x100010040): the object was already freed (EFREED)`.');
  });

  it('defines every field of stats(), and no other', () => {
    expect(tableFirstColumn('field').sort()).toEqual([...STAT_NAMES].sort());
  });
});
