import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../reports/text/summary.ts';
import { instanceRows } from '../../reports/model/tables.ts';
import { summaryFixture } from './report-fixtures.ts';

const spread = {
  instances: [
    { instance: 0, accepted: 12, refused: 40, delivered: 7, peakConnections: 9 },
    { instance: 1, accepted: 10, refused: 38, delivered: 5, peakConnections: 8 },
  ],
  clientConnectionsMax: 4,
  clientConnectionsMaxBy: '127.11.0.2',
};

describe('proxy instances in the reports', () => {
  it('shows one line per instance and the per-client figure across them', () => {
    const text = formatSummary(summaryFixture({ proxies: spread }));
    expect(text).toContain('PROXY INSTANCES');
    expect(text).toMatch(/#1 {2}connections 12 accepted, 40 refused {2}delivered 7 {2}peak open 9/);
    expect(text).toMatch(/#2 {2}connections 10 accepted, 38 refused {2}delivered 5 {2}peak open 8/);
    expect(text).toContain('the most connections one client held across all instances: 4 (127.11.0.2)');
  });

  it('says nothing of instances for a single proxy', () => {
    const one = { ...spread, instances: spread.instances.slice(0, 1) };
    expect(instanceRows(summaryFixture({ proxies: one }))).toEqual([]);
    expect(formatSummary(summaryFixture({ proxies: one }))).not.toContain('PROXY INSTANCES');
  });
});
