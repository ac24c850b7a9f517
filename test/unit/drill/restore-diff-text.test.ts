// The data diff in words, as the restore preview prints it.
import { expect } from 'chai';
import type { SnapshotDiff } from '../../../src/drill/restore-diff.js';
import { formatDiff, printable } from '../../../src/drill/restore-diff-text.js';

function diff(overrides: Partial<SnapshotDiff>): SnapshotDiff {
  return {
    snapshot: { path: '/b/s.db', revision: 100, keys: 57 },
    live: { member: 'etcd-1', endpoint: 'https://10.0.0.1:2379', revision: 130, keys: 33 },
    totals: { comeBack: 30, disappear: 1, change: 2, same: 25 },
    groups: [
      {
        resource: 'configmaps',
        namespace: 'default',
        prefix: '/registry/configmaps/default/',
        kubernetes: true,
        comeBack: 0,
        disappear: 0,
        change: 2,
      },
      { resource: 'pods', namespace: 'default', prefix: '/registry/pods/default/', kubernetes: true, comeBack: 25, disappear: 0, change: 0 },
      { resource: 'pods', namespace: 'kube-system', prefix: '/registry/pods/kube-system/', kubernetes: true, comeBack: 5, disappear: 0, change: 0 },
      { resource: 'rogue', prefix: '/registry/rogue/', kubernetes: true, comeBack: 0, disappear: 1, change: 0 },
    ],
    otherGroups: { groups: 0, comeBack: 0, disappear: 0, change: 0 },
    namespaces: { vanish: ['shop'], reappear: [], vanishCount: 1, reappearCount: 0 },
    newestLost: {
      key: '/registry/rogue/oops',
      modRevision: 129,
      effect: 'removed',
      modifiedAt: '2026-12-05T02:00:00.000Z',
      timeSource: 'creationTimestamp',
    },
    spilledRuns: 0,
    durationMs: 12,
    ...overrides,
  };
}

describe('formatDiff', () => {
  it('one line per resource, namespace and effect, in words', () => {
    expect(formatDiff(diff({}))).to.equal(
      [
        'Data diff: the snapshot at revision 100 (57 keys) against the cluster at revision 130 (33 keys, read from etcd-1):',
        "  2 configmaps in default will go back to the snapshot's version",
        '  25 pods in default will come back',
        '  5 pods in kube-system will come back',
        '  1 key under /registry/rogue/ will be removed',
        '  namespace shop will vanish',
        '  newest write that will be lost: /registry/rogue/oops (removed; written at revision 129, created 2026-12-05T02:00:00.000Z)',
        '  in total: 30 come back, 1 removed, 2 changed, 25 unchanged',
        '',
      ].join('\n'),
    );
  });

  it('no difference', () => {
    expect(formatDiff(diff({ totals: { comeBack: 0, disappear: 0, change: 0, same: 57 }, groups: [] }))).to.contain(
      'no difference: all 57 keys are the same',
    );
  });

  it('control characters from the cluster are shown escaped', () => {
    expect(printable('a\u001b[31mb\nc')).to.equal('a\\x1b[31mb\\x0ac');
    const text = formatDiff(
      diff({ groups: [{ resource: 'x', prefix: '/registry/x\u001b/', kubernetes: true, comeBack: 1, disappear: 0, change: 0 }] }),
    );
    expect(text).not.to.contain('\u001b');
  });
});
