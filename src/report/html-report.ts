// One self-contained HTML file: inline CSS and SVG, no script, no font or image to fetch, and a
// Content-Security-Policy that forbids loading anything at all. Prints on A4/Letter: sections do not
// split, colours print, hover titles are repeated in tables.
import type { ClusterSurvey } from '../etcd/cluster/observe.js';
import type { DrillRecord } from '../drill/drill-catalog.js';
import type { BackupHistory } from './backup-history.js';
import { backupSection, drillSection, restoreSection, statusSection } from './report-sections.js';
import { recoverySection, type RecoverySummary } from './recovery-section.js';
import type { RestoreTimeline } from './restore-timeline.js';
import { el, text } from './svg.js';

export interface ReportInput {
  cluster: string;
  inventoryFile: string;
  generatedAt: number;
  restore?: { timeline: RestoreTimeline; source: string };
  /** The recovery this report was written for; without a restore it has no restore section. */
  recovery?: RecoverySummary;
  backups: BackupHistory;
  drills: DrillRecord[];
  /** "last proven restorable: ..." */
  drillFreshness: string;
  /** Backup freshness lines for the status section. */
  freshness: string[];
  status?: { survey: ClusterSurvey; at: number } | { error: string };
}

const CSS = `
:root { --ok: #2e7d32; --bad: #c62828; --warn: #ef6c00; --muted: #666; --line: #ddd; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; margin: 24px; color: #222; max-width: 1000px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; } h3 { font-size: 15px; }
.meta, .source, .note, .figure-note { color: var(--muted); font-size: 12px; }
.lead { font-size: 14px; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 12px; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 160px; }
.figure-label { font-size: 12px; color: var(--muted); } .figure-value { font-size: 20px; font-weight: 600; }
svg { display: block; max-width: 100%; height: auto; font-size: 11px; margin: 6px 0; }
svg text { fill: #333; }
.lane-bg { fill: #fafafa; } .lane-bg.odd { fill: #f0f0f0; }
.lane-label { font-weight: 600; }
.tick line { stroke: #ccc; stroke-dasharray: 2 3; } .tick text { fill: var(--muted); }
.bar rect { stroke: rgba(0,0,0,.25); stroke-width: .5; }
.phase-prepare rect { fill: #4e79a7; } .phase-stop rect { fill: #f28e2b; } .phase-swap rect { fill: #b07aa1; }
.phase-start rect { fill: #59a14f; } .phase-verify rect { fill: #76b7b2; } .phase-other rect { fill: #bab0ac; }
.swatch.phase-prepare { background: #4e79a7; } .swatch.phase-stop { background: #f28e2b; } .swatch.phase-swap { background: #b07aa1; }
.swatch.phase-start { background: #59a14f; } .swatch.phase-verify { background: #76b7b2; } .swatch.phase-other { background: #bab0ac; }
.bar rect.hatch { fill: url(#hatch); } .hatch-line { stroke: rgba(255,255,255,.75); stroke-width: 2.5; }
.bar.status-failed rect { stroke: var(--bad); stroke-width: 2; } .bar .cross { stroke: #fff; stroke-width: 2; }
.bar.status-interrupted rect, .bar.status-unfinished rect { stroke: var(--warn); stroke-width: 2; stroke-dasharray: 4 2; fill-opacity: .6; }
.bar-label { fill: #fff; font-size: 10px; pointer-events: none; }
.mark line { stroke-width: 2; } .mark text { font-weight: 600; }
.mark-api-down line { stroke: var(--bad); stroke-dasharray: 5 3; } .mark-api-down text { fill: var(--bad); }
.mark-api-up line { stroke: var(--ok); stroke-dasharray: 5 3; } .mark-api-up text { fill: var(--ok); }
.mark-failure line { stroke: var(--bad); } .mark-failure text { fill: var(--bad); }
.mark-rollback line { stroke: #6a1b9a; } .mark-rollback text { fill: #6a1b9a; }
.mark-interrupted line { stroke: var(--warn); } .mark-interrupted text { fill: var(--warn); }
.mark-finished line { stroke: #555; stroke-dasharray: 1 3; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; margin-bottom: 8px; }
.swatch { display: inline-block; width: 14px; height: 10px; margin-right: 5px; vertical-align: middle; border: 1px solid rgba(0,0,0,.2); }
.rollback-swatch { background: repeating-linear-gradient(45deg, #888, #888 3px, #fff 3px, #fff 5px); }
.failed-swatch { border: 2px solid var(--bad); background: #fff; }
.gap { fill: rgba(198,40,40,.14); stroke: rgba(198,40,40,.5); } .gap.ongoing { fill: rgba(198,40,40,.25); }
.schedule { stroke: #999; } .attempt.ok { fill: var(--ok); } .attempt.failed { stroke: var(--bad); stroke-width: 2.5; fill: none; }
.value.ok { fill: #4e79a7; } .value.failed { fill: var(--bad); } .baseline { stroke: #bbb; }
.row-label { fill: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 12px; margin: 8px 0; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: 3px 6px; vertical-align: top; }
th { background: #f5f5f5; } td { word-break: break-word; }
table.phases, table.failures, table.drills { table-layout: fixed; }
table.phases th:nth-child(1) { width: 24%; } table.phases th:nth-child(2) { width: 16%; } table.phases th:nth-child(3) { width: 10%; } table.phases th:nth-child(4) { width: 8%; }
table.failures th:nth-child(1) { width: 24%; } table.failures th:nth-child(2) { width: 10%; }
table.drills th:nth-child(1) { width: 18%; } table.drills th:nth-child(2) { width: 26%; } table.drills th:nth-child(3) { width: 14%; } table.drills th:nth-child(4), table.drills th:nth-child(5), table.drills th:nth-child(6) { width: 8%; }
.status-text.ok { color: var(--ok); } .status-text.failed, .bad { color: var(--bad); } .status-text.interrupted, .status-text.unfinished { color: var(--warn); }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section { break-inside: avoid-page; } h2 { break-after: avoid; } table { break-inside: auto; } tr { break-inside: avoid; }
  details > summary { display: none; }
  svg { width: 100%; }
}
@page { margin: 12mm; }
`;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export function renderReport(input: ReportInput): string {
  const generated = new Date(input.generatedAt).toISOString().replace('T', ' ').slice(0, 19);
  const body = [
    el('h1', {}, text(`etcd cluster ${input.cluster}`)),
    el('p', { class: 'meta' }, text(`orchestrate report, generated ${generated} UTC from ${input.inventoryFile}`)),
    input.recovery ? recoverySection(input.recovery) : undefined,
    input.recovery && !input.restore ? undefined : restoreSection(input.restore?.timeline, input.restore?.source ?? ''),
    backupSection(input.backups),
    drillSection(input.drills, input.drillFreshness),
    statusSection(input.status, input.freshness),
  ]
    .filter((section) => section !== undefined)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text(`orchestrate report: ${input.cluster}`)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
