/**
 * mulberry32: tiny, fast and good enough for weights and text. Determinism across platforms is the
 * point (same seed, byte-identical model), which Math.random cannot give.
 */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `target` with N(0, std²) samples (Box-Muller, both outputs of each pair used). */
export function fillNormal(target: Float32Array, rng: () => number, std: number): void {
  for (let i = 0; i < target.length; i += 2) {
    // 1 - u keeps the log argument in (0, 1], so no -Infinity.
    const radius = std * Math.sqrt(-2 * Math.log(1 - rng()));
    const angle = 2 * Math.PI * rng();
    target[i] = radius * Math.cos(angle);
    if (i + 1 < target.length) target[i + 1] = radius * Math.sin(angle);
  }
}
