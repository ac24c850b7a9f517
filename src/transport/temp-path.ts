// Names for files that are not finished yet; the random part keeps concurrent runs apart
// and makes the name impossible to guess in a shared /tmp.
import { randomBytes } from 'node:crypto';

export const tempMarker = '.orchestrate-tmp-';

/** A sibling of `path`, so the final rename stays on one file system and is atomic. */
export function tempPathFor(path: string): string {
  return `${path}${tempMarker}${randomBytes(8).toString('hex')}`;
}

/** A staging file in the far side's /tmp, used when the login user cannot write the destination itself. */
export function stagePathInTmp(): string {
  return `/tmp/orchestrate-stage-${randomBytes(16).toString('hex')}`;
}
