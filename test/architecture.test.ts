// The structure of assembly/ (issue: architecture): files in layers, each importing only from the layers below it,
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
