// Summaries and tables. Every case reports median, p90 and p99 of per-operation samples, and
// ratios of medians against a baseline measured in the same run.
'use strict';

/**
 * The q-quantile of sorted samples, interpolated between the two nearest ranks (numpy's default):
 * the median of an even count is the mean of the middle two. With fewer than 100 samples p99 lies
 * between the two largest.
 */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** { n, median, p90, p99 } of a list of numbers (milliseconds, usually). */
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99) };
}

function median(samples) {
  return summary(samples).median;
}

function ms(v) {
  if (!Number.isFinite(v)) return '–';
  if (v >= 100) return `${v.toFixed(0)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

function us(v) {
  return Number.isFinite(v) ? `${v.toFixed(0)} µs` : '–';
}

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '–';
}

/** A markdown table: `columns` are header strings, `rows` arrays of cells. */
function table(columns, rows) {
  const lines = [`| ${columns.join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/**
 * Rows for ways measured against one baseline: way | median | p90 | p99 | median vs baseline.
 * `samples` maps a way's label to its samples; ways without samples are left out.
 */
function waysTable(samples, baseline, baselineLabel = baseline) {
  const base = median(samples[baseline] ?? []);
  const rows = [];
  for (const [label, xs] of Object.entries(samples)) {
    if (!xs || xs.length === 0) continue;
    const s = summary(xs);
    rows.push([label, ms(s.median), ms(s.p90), ms(s.p99), ratio(s.median, base)]);
  }
  return table(['way', 'median', 'p90', 'p99', `median vs ${baselineLabel}`], rows);
}

/**
 * A seeded pseudo-random generator (mulberry32): the same seed gives the same sequence, so a run's
 * sample order can be reproduced.
 */
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of `items` in random order (Fisher-Yates) drawn from `random`. */
function shuffled(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

module.exports = { summary, median, ms, us, ratio, table, waysTable, quantile, seededRandom, shuffled };
