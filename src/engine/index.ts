// The engine's public surface, for `orchestrate run`, `backup` and `restore`.
export { runPlaybook, defaultForks } from './run-playbook.js';
export { parseExtraVars } from './extra-vars.js';
export { createReporter } from './reporters/create.js';
export { JsonReporter } from './reporters/json.js';
export { PlainReporter, SilentReporter } from './reporters/plain.js';
export { formatPlan, formatRecap } from './reporters/format.js';
export type {
  HostPlan,
  HostStats,
  HostTaskResult,
  OutputMode,
  PlannedStep,
  PlannedTask,
  Reporter,
  RunEvent,
  RunPlaybookOptions,
  RunSummary,
  TaskRef,
  TaskStatus,
} from './types.js';
