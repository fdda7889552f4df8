import { Lru } from "../cache/lru.ts";

// Local counts (o200k or cl100k) miss a backend's real prompt count by its chat template, the
// tool preamble it renders and, for non-OpenAI models, a different vocabulary. The upstream says
// what it counted in every answer's usage: a running ratio per model (upstream / local) scales
// later local counts, so window decisions land within a few percent after a few requests.

interface Ratio {
  ratio: number;
  samples: number;
}

/** Samples averaged equally before the ratio starts following recent answers. */
const warmup = 5;
const recentWeight = 0.2;
/** A ratio this far from 1 is a mismatch (another request's usage, a summary), not a tokenizer. */
const plausible = { min: 0.5, max: 2 };

const ratios = new Lru<string, Ratio>(256);

/** Whether `model` still wants samples to settle its ratio. */
export function warmingUp(model: string): boolean {
  return (ratios.get(model)?.samples ?? 0) < warmup;
}

/** One answer's prompt count as the upstream reported it, against lynkr's local count of the same prompt. */
export function observePromptCount(model: string, local: number, reported: number): void {
  if (local <= 0 || reported <= 0) return;
  const sample = reported / local;
  if (sample < plausible.min || sample > plausible.max) return;
  const known = ratios.get(model);
  if (!known) {
    ratios.set(model, { ratio: sample, samples: 1 });
    return;
  }
  const weight = known.samples < warmup ? 1 / (known.samples + 1) : recentWeight;
  ratios.set(model, { ratio: known.ratio + (sample - known.ratio) * weight, samples: known.samples + 1 });
}

/** A local count scaled by the model's ratio (unchanged until the model has one). */
export function calibrated(model: string | undefined, local: number): number {
  const known = model === undefined ? undefined : ratios.get(model);
  return known ? Math.round(local * known.ratio) : local;
}

/** The model's ratio and how many answers it rests on, for metrics and tests. */
export function calibrationOf(model: string): Ratio | undefined {
  const known = ratios.get(model);
  return known ? { ...known } : undefined;
}

/** Forgets every ratio (tests start from none). */
export function resetCalibration(): void {
  ratios.clear();
}
