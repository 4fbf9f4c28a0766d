// deploy/grafana-dashboard.json and deploy/prometheus-alerts.yml only name metrics the gateway really exports.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { declaredMetrics } from '../helpers/prometheus.js';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

interface Dashboard {
  uid: string;
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
}
interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}

/** PromQL's functions, aggregations and keywords: every other bare identifier in an expression is a metric name. */
const PROMQL_WORDS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset',
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'histogram_quantile', 'absent', 'absent_over_time',
  'avg_over_time', 'max_over_time', 'min_over_time', 'sum_over_time', 'count_over_time', 'clamp_min', 'clamp_max',
  'label_replace', 'vector', 'scalar', 'time', 'sort', 'sort_desc', 'abs', 'round',
]);
/** Series Prometheus makes itself for every scrape target. */
const PROMETHEUS_OWN = new Set(['up']);

/** The metric names an expression reads: strings, label matchers, ranges and grouping lists removed, words left. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ')
    // Numbers and durations (offset 1w, 0.99, 1e5).
    .replace(/(?<![A-Za-z_:])\d+(\.\d+)?(e\d+|ms|[smhdwy])?\b/g, ' ');
  const words = bare.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? [];
  return [...new Set(words.filter((w) => !PROMQL_WORDS.has(w) && !/^(Inf|NaN)$/.test(w)))];
}

let gw: TestGateway;
let exported: Map<string, string>;
let dashboard: Dashboard;
let rules: RuleFile;

beforeAll(async () => {
  gw = await startTestGateway();
  exported = declaredMetrics((await gw.http.get('/metrics')).text);
  dashboard = JSON.parse(await read('deploy/grafana-dashboard.json')) as Dashboard;
  rules = parse(await read('deploy/prometheus-alerts.yml')) as RuleFile;
});

afterAll(async () => {
  await gw?.close();
});

const dashboardExprs = () => dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr })));
const ruleExprs = () => rules.groups.flatMap((g) => g.rules.map((r) => ({ where: r.alert, expr: r.expr })));

describe('metricNames', () => {
  it('when an expression has functions, matchers, ranges and grouping, then only the metric names are left', () => {
    expect(
      metricNames('histogram_quantile(0.99, sum by (le, route) (rate(gateway_http_request_duration_seconds_bucket{route="/v1/refunds",le=~".+"}[5m]))) / on() up offset 1w > 1e5'),
    ).toEqual(['gateway_http_request_duration_seconds_bucket', 'up']);
  });
});

describe('deploy/grafana-dashboard.json', () => {
  it('when its panels are read, then every metric a query names is on /metrics', () => {
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThanOrEqual(15);
    for (const { where, expr } of exprs) {
      for (const name of metricNames(expr)) expect({ where, name, exported: exported.has(name) }).toEqual({ where, name, exported: true });
    }
  });

  it('when its panels are read, then every business metric has a panel', () => {
    const named = new Set(dashboardExprs().flatMap(({ expr }) => metricNames(expr)));
    // Families, as declared by `# TYPE`; a histogram is shown when any of its series is (`_bucket`, `_count`, `_sum`).
    const series = (name: string) => (exported.get(name) === 'histogram' ? ['_bucket', '_count', '_sum'].map((s) => `${name}${s}`) : [name]);
    const families = [...exported.keys()].filter((name) => !(exported.get(name) === 'histogram' && /_(bucket|count|sum)$/.test(name)));
    const business = families.filter((name) => /^gateway_(refund|refusals|idempotency|payment_intent|ledger_pool|event|stripe_calls_waiting)/.test(name));
    expect(business.length).toBeGreaterThanOrEqual(14);
    for (const name of business) expect({ name, shown: series(name).some((s) => named.has(s)) }).toEqual({ name, shown: true });
  });

  it('when read, then every panel but the rows has a title and a query, and ids are unique', () => {
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    for (const p of panels) expect({ title: p.title, queries: (p.targets ?? []).length > 0 }).toEqual({ title: expect.any(String), queries: true });
    const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('deploy/prometheus-alerts.yml', () => {
  it('when its rules are read, then every metric an alert names is on /metrics (or is Prometheus’s own up)', () => {
    const exprs = ruleExprs();
    expect(exprs.length).toBeGreaterThanOrEqual(8);
    for (const { where, expr } of exprs) {
      for (const name of metricNames(expr)) {
        expect({ where, name, exported: exported.has(name) || PROMETHEUS_OWN.has(name) }).toEqual({ where, name, exported: true });
      }
    }
  });

  it('when its rules are read, then each has a duration, a severity and a summary', () => {
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      expect({ alert: rule.alert, for: rule.for, severity: rule.labels?.severity, summary: typeof rule.annotations?.summary }).toEqual({
        alert: rule.alert,
        for: expect.stringMatching(/^\d+[smh]$/),
        severity: expect.stringMatching(/^(page|ticket)$/),
        summary: 'string',
      });
    }
  });
});
