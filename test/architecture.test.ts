// The structure of assembly/ and src/ (issue: architecture): files in layers, each importing only from the layers below it,
// the one allowed cycle being refcount <-> queue. Each file states its layer in its header ("// Layer N"); this test
// reads the imports and fails when one runs upward or sideways, and checks docs/ARCHITECTURE.md draws the same.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const ALLOWED_CYCLE = new Set(['refcount>queue', 'queue>refcount']);

interface Unit { name: string; layer: number; imports: string[] }

export function readUnits(dir: string): Unit[] {
  return readdirSync(dir).filter((f) => f.endsWith('.ts')).map((file) => {
    const source = readFileSync(join(dir, file), 'utf8');
    const layer = /^\/\/ Layer (\d+)\b/m.exec(source);
    const imports = [...source.matchAll(/^import [^;]*? from "\.\/([\w-]+)";/gms)].map((m) => m[1]);
    return { name: file.replace(/\.ts$/, ''), layer: layer ? Number(layer[1]) : NaN, imports };
  });
}

/** Import edges that run against the layers: to a higher layer, or to the same layer outside the allowed cycle. */
export function violations(units: Unit[]): string[] {
  const layerOf = new Map(units.map((u) => [u.name, u.layer]));
  const bad: string[] = [];
  for (const u of units) {
    if (Number.isNaN(u.layer)) bad.push(`${u.name}.ts states no layer`);
    for (const target of u.imports) {
      const t = layerOf.get(target);
      if (t === undefined) bad.push(`${u.name} imports unknown ${target}`);
      else if (t > u.layer || (t === u.layer && !ALLOWED_CYCLE.has(`${u.name}>${target}`))) {
        bad.push(`${u.name} (layer ${u.layer}) imports ${target} (layer ${t})`);
      }
    }
  }
  return bad;
}

describe('assembly/ in layers', () => {
  const units = readUnits(join(root, 'assembly'));

  it('every import runs downward (refcount <-> queue is the one cycle)', () => {
    expect(units.length).toBeGreaterThan(10);
    expect(violations(units)).toEqual([]);
  });

  it('the rules of the issue hold by name: the allocator never imports reference counting, the pages never the lock', () => {
    const importsOf = (name: string) => units.find((u) => u.name === name)!.imports;
    expect(importsOf('alloc')).not.toContain('refcount');
    expect(importsOf('alloc')).not.toContain('queue');
    expect(importsOf('pages')).not.toContain('lock');
    expect(importsOf('pages')).not.toContain('mutex');
  });

  it('the check itself catches an upward import and a sideways one', () => {
    const broken = units.map((u) => (u.name === 'alloc' ? { ...u, imports: [...u.imports, 'refcount'] } : u));
    expect(violations(broken)).toContain('alloc (layer 4) imports refcount (layer 6)');
    const sideways = units.map((u) => (u.name === 'park' ? { ...u, imports: [...u.imports, 'object'] } : u));
    expect(violations(sideways)).toContain('park (layer 7) imports object (layer 7)');
  });

  it('docs/ARCHITECTURE.md draws every file at its layer', () => {
    const doc = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');
    for (const u of units) {
      const row = new RegExp(`^\\|\\s*${u.layer}\\s*\\|[^\\n]*\`${u.name}\\.ts\``, 'm');
      expect(doc, `${u.name}.ts at layer ${u.layer}`).toMatch(row);
    }
  });
});

describe('src/ in the order docs/ARCHITECTURE.md lists it', () => {
  const doc = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## src/: the TypeScript wrapper'));
  const order = [...section.matchAll(/^\| `([\w/.-]+\.ts)` \|/gm)].map((m) => m[1]!);
  const src = join(root, 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => f.replaceAll('\\', '/'));

  /** The src files each file imports (relative imports, type-only ones too: they are dependencies of the reader). */
  function importsOf(file: string): string[] {
    const source = readFileSync(join(src, file), 'utf8');
    const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
    return [...source.matchAll(/^(?:import|export)\s[^;]*?\sfrom '(\.{1,2}\/[^']+)\.js';/gms)].map((m) => {
      const parts = (dir + m[1]!).split('/');
      const out: string[] = [];
      for (const p of parts) { if (p === '..') out.pop(); else if (p !== '.') out.push(p); }
      return `${out.join('/')}.ts`;
    });
  }

  /** Imports of files listed at or below the importer: what makes the layers a reader can no longer climb. */
  function upward(listed: string[], imports: (file: string) => string[]): string[] {
    const at = new Map(listed.map((f, i) => [f, i]));
    return listed.flatMap((file) => imports(file).filter((t) => !(at.get(t)! < at.get(file)!)).map((t) => `${file} imports ${t}`));
  }

  it('lists every file of src/ once', () => {
    expect([...order].sort()).toEqual([...files].sort());
  });

  it('each file imports only files listed above it', () => {
    expect(importsOf('heap.ts')).toEqual(expect.arrayContaining(['views.ts', 'fastpath.ts', 'shape.ts', 'ref.ts', 'wasm.ts']));
    expect(importsOf('platform/node.ts')).toContain('platform.ts');
    expect(upward(order, importsOf)).toEqual([]);
  });

  it('would catch an import that runs up the list', () => {
    const withBackEdge = (file: string) => (file === 'views.ts' ? [...importsOf(file), 'heap.ts'] : importsOf(file));
    expect(upward(order, withBackEdge)).toContain('views.ts imports heap.ts');
  });
});
