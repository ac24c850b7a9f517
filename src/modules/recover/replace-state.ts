// What the steps of a member replace hand each other (and the command, which journals it): the id of the
// member removed, the id it was added back under. Typed run state, not registered facts.
import { stateKey } from '../run-state.js';

export interface ReplaceProgress {
  /** Id (hex) of the member as it was before the replace removed it. */
  removedId?: string;
  /** Id (hex) it was added back under. */
  addedId?: string;
  /** Where its old data dir went. */
  asideDir?: string;
}

/** Host -> progress of its replace. */
export const replaceProgress = stateKey('recover.replace-progress', () => new Map<string, ReplaceProgress>());
