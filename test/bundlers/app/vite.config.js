// The only configuration: the two headers that give the page SharedArrayBuffer, for `vite` and `vite preview`.
const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default { server: { headers }, preview: { headers } };
