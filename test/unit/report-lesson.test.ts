// A lesson as a workshop reads it: paragraphs reflowed from the YAML's line breaks,
// wrapped at words, its topics in the order it mentions them, and, against another
// target, the same defenses under that target's names.
import { describe, expect, it } from 'vitest';
import { lessonNotesFor, lessonTopics, paragraphs, reflow, targetNotes } from '../../reports/model/lesson.ts';
import { modelOf } from '../../reports/model/run-model.ts';
import { targetKind } from '../../reports/model/target.ts';
import { runStart } from './report-fixtures.ts';

const lesson = `Connection flood: five infected hosts each try to open and hold 100 SMTP
connections, silently, for twelve seconds. With \`connections.perClient: 10\` each
bot holds ten, and the office's p95 latency stays low.

- one
- two
Compare under configs/open.yaml.
`;

describe('lesson text', () => {
  it("joins a YAML block's line breaks into paragraphs, keeping blank lines and list items", () => {
    expect(paragraphs(lesson)).toEqual([
      "Connection flood: five infected hosts each try to open and hold 100 SMTP connections, silently, for twelve seconds. With `connections.perClient: 10` each bot holds ten, and the office's p95 latency stays low.",
      '',
      '- one',
      '- two',
      'Compare under configs/open.yaml.',
    ]);
  });

  it('wraps at word boundaries within the width, counting backticks as rendered (invisible)', () => {
    const lines = reflow(lesson, 40);
    for (const l of lines) expect(l.replace(/`/g, '').length).toBeLessThanOrEqual(40);
    expect(lines.every((l) => !/^\s|\s$/.test(l))).toBe(true);
    expect(lines.join(' ').replace(/\s+/g, ' ')).toContain('hold 100 SMTP connections, silently');
  });

  it('knows what it is about, in the order it says it', () => {
    expect(lessonTopics(lesson).map((t) => t.id)).toEqual(['per-client', 'latency']);
  });
});

describe('a lesson read against another target', () => {
  it("names the defense in the target's own terms, or every peer's when the target is not known", () => {
    expect(targetNotes(lesson, 'postfix')).toEqual([
      'the per-client connection cap: Postfix: smtpd_client_connection_count_limit (anvil; postscreen_client_connection_count_limit in front)',
      'configs/open.yaml is attitude with its defenses off: against another target, compare with that target with its limits turned off',
    ]);
    expect(targetNotes(lesson, 'unknown')[0]).toMatch(/^the per-client connection cap: Postfix: .*; Haraka: limit\.ini \[concurrency\].*; HAProxy: a stick-table/);
    expect(targetNotes(lesson, 'attitude')).toEqual([]);
  });

  it('tells the kind of target from its banner', () => {
    expect(targetKind('postfix.attitude.test ESMTP Postfix (Debian/GNU)')).toBe('postfix');
    expect(targetKind('haraka.test ESMTP Haraka/3.1.1 ready')).toBe('haraka');
    expect(targetKind('mx1.mock.test ESMTP')).toBe('haproxy');
    expect(targetKind('mx.attitude.test ESMTP attitude')).toBe('attitude');
    expect(targetKind(null)).toBe('unknown');
  });

  it('adds the notes to an external run only', () => {
    const external = modelOf([runStart({ lesson, external: true, proxyConfig: null }), { type: 'target.ready', t: 0, banner: 'p.test ESMTP Postfix', ms: 3 }]);
    expect(lessonNotesFor(external)?.heading).toMatch(/the target here is Postfix/);
    expect(lessonNotesFor(modelOf([runStart({ lesson })]))).toBeNull();
  });
});
