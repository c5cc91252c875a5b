/**
 * A node:test reporter that ends the run with what was skipped and why, grouped by reason with
 * counts. It runs next to the spec reporter (see the `test` script in package.json), which keeps
 * printing every test and the closing "ℹ pass N" / "ℹ fail N" lines CI reads; this one only adds
 * the summary, so a skip is never lost in the scroll. A skipped describe counts once: its tests
 * are never registered, so they cannot be counted.
 */
interface ReportedTest {
  readonly name: string;
  readonly skip?: string | boolean;
  readonly details?: { readonly type?: 'suite' | 'test' };
}

type Event = { readonly type: string; readonly data: unknown };

export interface SkipGroup {
  readonly reason: string;
  suites: number;
  tests: number;
}

/** The summary lines for these groups, most frequent reason first; none when nothing was skipped. */
export function skipSummary(groups: Iterable<SkipGroup>): string[] {
  const sorted = [...groups].sort((a, b) => b.suites + b.tests - (a.suites + a.tests) || a.reason.localeCompare(b.reason));
  if (sorted.length === 0) return [];
  const count = (n: number, what: string) => (n === 0 ? [] : [`${n} ${what}${n === 1 ? '' : 's'}`]);
  const suites = sorted.reduce((n, g) => n + g.suites, 0);
  const tests = sorted.reduce((n, g) => n + g.tests, 0);
  return [
    `skipped ${[...count(suites, 'suite'), ...count(tests, 'test')].join(' and ')}, by reason:`,
    ...sorted.map((g) => `  ${[...count(g.suites, 'suite'), ...count(g.tests, 'test')].join(', ')}: ${g.reason}`),
  ];
}

export default async function* skipSummaryReporter(source: AsyncIterable<Event>): AsyncGenerator<string> {
  const groups = new Map<string, SkipGroup>();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const test = event.data as ReportedTest;
    if (test.skip === undefined || test.skip === false) continue;
    const reason = typeof test.skip === 'string' && test.skip !== '' ? test.skip : '(no reason given)';
    let group = groups.get(reason);
    if (!group) groups.set(reason, (group = { reason, suites: 0, tests: 0 }));
    if (test.details?.type === 'suite') group.suites++;
    else group.tests++;
  }
  const lines = skipSummary(groups.values());
  if (lines.length > 0) yield `\n${lines.join('\n')}\n`;
}
