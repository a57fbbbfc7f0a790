// Walking the sections of a wasm binary: the one parser that the build checks, the bench build and the tests share.

/** The sections of a wasm binary: { id, name (custom sections), start, end } with start/end the payload bounds. */
export function wasmSections(bytes) {
  const sections = [];
  let pos = 8; // magic and version
  const leb = () => {
    let result = 0, shift = 0, byte;
    do { byte = bytes[pos++]; result |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80);
    return result >>> 0;
  };
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = leb();
    const start = pos;
    let name;
    if (id === 0) {
      const length = leb();
      name = new TextDecoder().decode(bytes.subarray(pos, pos + length));
    }
    sections.push({ id, name, start, end: start + size });
    pos = start + size;
  }
  return sections;
}

export const SECTION_START = 8;
export const SECTION_DATA = 11;
export const SECTION_DATA_COUNT = 12;

/**
 * What a module shared by threads must not have: data segments (every instantiation would re-apply them over the
 * shared memory) and a start function. Returns the problems found, empty when there are none.
 */
export function sharedModuleProblems(bytes) {
  const ids = wasmSections(bytes).map((s) => s.id);
  const problems = [];
  if (ids.includes(SECTION_DATA) || ids.includes(SECTION_DATA_COUNT)) problems.push('a data section');
  if (ids.includes(SECTION_START)) problems.push('a start function');
  return problems;
}
