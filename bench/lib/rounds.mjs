// Paired, interleaved measurement of Gorgon against its raw-Node baseline. The machine is
// shared and noisy, so the two are measured alternately in the same run (ABBA order, so that
// neither always runs first), and the ratio reported is the median of the per-round ratios:
// a burst of noise then hits both halves of a pair rather than one whole side.
import { median, spread } from './stats.mjs';

/**
 * @typedef {object} Paired
 * @property {number[]} gorgon     one figure per round
 * @property {number[]} baseline   one figure per round
 * @property {number[]} ratios     gorgon[i] / baseline[i]
 * @property {number} figure       median of gorgon
 * @property {number} baselineFigure  median of baseline
 * @property {number} ratio        median of ratios
 * @property {number} noise        largest spread (max−min)/median of the two samples
 */

/**
 * @param {object} options
 * @param {number} options.rounds  at least 3
 * @param {(subject: 'gorgon' | 'baseline', round: number) => Promise<number>} options.measure
 * @param {(msg: string) => void} [options.log]
 * @returns {Promise<Paired>}
 */
export async function alternate({ rounds, measure, log = () => {} }) {
  const many = await alternateMany({ rounds, log, measure: async (s, r) => ({ value: await measure(s, r) }) });
  return /** @type {Paired} */ (many.value);
}

/**
 * Like {@link alternate}, for a measurement that yields several figures at once (RSS and heap).
 * @param {object} options
 * @param {number} options.rounds
 * @param {(subject: 'gorgon' | 'baseline', round: number) => Promise<Record<string, number>>} options.measure
 * @param {(msg: string) => void} [options.log]
 * @returns {Promise<Record<string, Paired>>}
 */
export async function alternateMany({ rounds, measure, log = () => {} }) {
  /** @type {Record<string, { gorgon: number[], baseline: number[] }>} */
  const out = {};
  for (let round = 0; round < rounds; round++) {
    /** @type {Array<'gorgon' | 'baseline'>} */
    const order = round % 2 === 0 ? ['gorgon', 'baseline'] : ['baseline', 'gorgon'];
    for (const subject of order) {
      const values = await measure(subject, round);
      for (const [key, value] of Object.entries(values)) {
        out[key] ??= { gorgon: [], baseline: [] };
        out[key][subject].push(value);
      }
      const text = Object.entries(values).map(([k, v]) => (k === 'value' ? '' : `${k} `) + v.toPrecision(4));
      log(`round ${round + 1}/${rounds} ${subject}: ${text.join(', ')}`);
    }
  }
  /** @type {Record<string, Paired>} */
  const result = {};
  for (const [key, { gorgon, baseline }] of Object.entries(out)) {
    const ratios = gorgon.map((g, i) => g / /** @type {number} */ (baseline[i]));
    result[key] = {
      gorgon,
      baseline,
      ratios,
      figure: median(gorgon),
      baselineFigure: median(baseline),
      ratio: median(ratios),
      noise: Math.max(spread(gorgon), spread(baseline)),
    };
  }
  return result;
}
