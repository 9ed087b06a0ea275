// Managed Prometheus rules (deploy/prometheus): `promtool check rules` and `promtool test
// rules` on the Rules object's spec, and every metric a rule reads checked against what
// the services export (prom-client names in apps/ and libs/) or a named exporter.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { run } from './harness.mjs';

/** Metrics of other exporters the rules may read: the broker's rabbitmq_prometheus plugin. */
const EXTERNAL_PREFIXES = ['rabbitmq_'];

/**
 * Metrics the rules read that no service exports yet, each with what must export it. The
 * check fails once one is exported (remove it here) and for any other unknown name.
 */
export const AWAITED_METRICS = {};

const PROMQL_WORDS = new Set(
  (
    'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without ' +
    'on ignoring group_left group_right and or unless bool offset rate irate increase delta ' +
    'idelta deriv predict_linear histogram_quantile abs ceil floor round clamp clamp_min ' +
    'clamp_max absent absent_over_time changes resets vector scalar time timestamp ' +
    'label_replace label_join sort sort_desc sqrt exp ln log2 log10 avg_over_time ' +
    'min_over_time max_over_time sum_over_time count_over_time last_over_time ' +
    'quantile_over_time stddev_over_time present_over_time inf nan'
  ).split(' '),
);

/** The metric names an expression reads (recording rules, with a colon, excluded). */
export function metricNames(expr) {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w) && !w.includes(':') && !/^\d/.test(w));
}

/** prom-client metric names declared under the given source directories. */
export function exportedMetrics(dirs) {
  const names = new Set();
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      const at = path.join(dir, entry);
      if (statSync(at).isDirectory()) walk(at);
      else if (at.endsWith('.ts') && !at.endsWith('.spec.ts')) {
        const text = readFileSync(at, 'utf8');
        for (const m of text.matchAll(
          /new\s+(Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*'([^']+)'/g,
        )) {
          names.add(m[2]);
          if (m[1] === 'Histogram' || m[1] === 'Summary')
            for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${m[2]}${suffix}`);
        }
      }
    }
  };
  dirs.forEach(walk);
  return names;
}

const histogramBase = (name) => name.replace(/_(bucket|count|sum)$/, '');

/** Rules reading a metric nobody exports, and awaited metrics that are now exported. */
export function metricViolations(groups, exported, awaited = AWAITED_METRICS) {
  const problems = [];
  const used = new Set();
  for (const group of groups)
    for (const rule of group.rules ?? [])
      for (const name of metricNames(String(rule.expr))) {
        used.add(name);
        if (exported.has(name) || EXTERNAL_PREFIXES.some((p) => name.startsWith(p))) continue;
        if (histogramBase(name) in awaited) continue;
        problems.push(
          `${group.name}/${rule.alert ?? rule.record}: reads ${name}, which no service exports`,
        );
      }
  for (const name of Object.keys(awaited))
    if (exported.has(name) || exported.has(`${name}_count`))
      problems.push(`${name} is exported now: remove it from AWAITED_METRICS`);
  return [...new Set(problems)];
}

/** The Rules object's groups (deploy/prometheus/slo-rules.yaml). */
export function ruleGroups(rulesFile) {
  const rules = parse(readFileSync(rulesFile, 'utf8'));
  if (rules.kind !== 'Rules' || !Array.isArray(rules.spec?.groups))
    throw new Error(`${rulesFile}: expected a monitoring.googleapis.com Rules object`);
  return rules.spec.groups;
}

/**
 * `promtool check rules` and `promtool test rules` on the groups, with the test file
 * copied beside them (its rule_files name slo-rules.rules.yaml). testText overrides the
 * file's content (the self-test breaks a copy).
 */
export function promtool(binary, groups, testFile, testText = readFileSync(testFile, 'utf8')) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'deploy-check-promtool-'));
  const rules = path.join(scratch, 'slo-rules.rules.yaml');
  writeFileSync(rules, stringify({ groups }));
  const test = path.join(scratch, path.basename(testFile));
  writeFileSync(test, testText);
  const problems = [];
  const checked = run(binary, ['check', 'rules', rules]);
  if (checked.status !== 0) problems.push((checked.stderr || checked.stdout).trim());
  const tested = run(binary, ['test', 'rules', test], { cwd: scratch });
  if (tested.status !== 0) problems.push((tested.stdout + tested.stderr).trim());
  const count = (parse(testText).tests ?? []).length;
  return { problems, summary: `${groups.length} groups, ${count} test cases` };
}
