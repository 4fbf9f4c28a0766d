// Reads Prometheus text exposition: the metric families it declares and the value of one sample.

/** Every family a /metrics text declares (`# TYPE name type`), with the sample names it may carry. */
export function declaredMetrics(text: string): Map<string, string> {
  const declared = new Map<string, string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    declared.set(name!, type!);
    if (type === 'histogram' || type === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) declared.set(`${name!}${suffix}`, type);
    }
  }
  return declared;
}

const labelsOf = (text: string | undefined): Record<string, string> =>
  Object.fromEntries([...(text ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));

/** The value of the sample of `name` whose labels include `labels`; 0 when there is none (a counter never incremented). */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const [, sampleName, labelText, value] of text.matchAll(/^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/gm)) {
    if (sampleName !== name) continue;
    const have = labelsOf(labelText);
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      total += Number(value);
      found = true;
    }
  }
  return found ? total : 0;
}
