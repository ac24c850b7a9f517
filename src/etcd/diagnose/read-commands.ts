// The read-only commands diagnosis runs on a member, and how their output is read. Each is a constant
// script with the member's values passed as quoted arguments ($1, $2...), so no inventory value becomes
// shell syntax, and none writes anything: no copy, no temporary file, no lock.
import { gunzipSync } from 'node:zlib';
import { shellJoin } from '../../shell/quote.js';
import type { ByteRequest } from './byte-reader.js';

/** A file of the data dir as listed: size in bytes, mtime in seconds. */
export interface ListedFile {
  name: string;
  size: number;
  mtime: number;
}

export interface DataDirListing {
  /** `systemctl is-active` said active, or crictl shows kubeadm's etcd container running. */
  active: boolean;
  dataDir: boolean;
  memberDir: boolean;
  wal: ListedFile[];
  snap: ListedFile[];
  db?: ListedFile;
  gzip: boolean;
}

const LISTING_SCRIPT = [
  'unit=$1; data=$2; wal=$3',
  // A unit (kubeasz), else kubeadm's etcd container as crictl shows it.
  'if systemctl is-active --quiet "$unit" 2>/dev/null; then echo "active yes"',
  `elif command -v crictl >/dev/null 2>&1 && [ -n "$(crictl ps -q --state running --name '^etcd$' 2>/dev/null)" ]; then echo "active yes"`,
  'else echo "active no"; fi',
  'if [ -d "$data" ]; then echo "datadir yes"; else echo "datadir no"; fi',
  'if [ -d "$data/member" ]; then echo "memberdir yes"; else echo "memberdir no"; fi',
  'if command -v gzip >/dev/null 2>&1; then echo "gzip yes"; fi',
  'for f in "$wal"/*.wal "$data"/member/snap/*.snap "$data"/member/snap/db; do',
  '  [ -f "$f" ] || continue',
  '  echo "file $(stat -c "%s %Y" "$f") $f"',
  'done',
].join('\n');

/** Whether etcd runs, whether the data dir is there, and every WAL segment (in `walDir`: `--wal-dir` or `<data>/member/wal`), raft snapshot and the db with sizes and times. */
export function listingCommand(unit: string, dataDir: string, walDir = `${dataDir}/member/wal`): string {
  return `sh -c ${shellJoin([LISTING_SCRIPT, 'sh', unit, dataDir, walDir])}`;
}

export function parseListing(stdout: string, dataDir: string): DataDirListing {
  const listing: DataDirListing = { active: false, dataDir: false, memberDir: false, wal: [], snap: [], gzip: false };
  for (const line of stdout.split('\n')) {
    const [word, value] = line.split(' ');
    if (word === 'active') listing.active = value === 'yes';
    else if (word === 'datadir') listing.dataDir = value === 'yes';
    else if (word === 'memberdir') listing.memberDir = value === 'yes';
    else if (word === 'gzip') listing.gzip = true;
    else if (word === 'file') {
      const match = /^file (\d+) (\d+) (.+)$/.exec(line);
      if (!match) continue;
      const path = match[3] ?? '';
      const file: ListedFile = { name: path.slice(path.lastIndexOf('/') + 1), size: Number(match[1]), mtime: Number(match[2]) };
      if (path === `${dataDir}/member/snap/db`) listing.db = file;
      else if (path.endsWith('.wal')) listing.wal.push(file);
      else if (path.endsWith('.snap')) listing.snap.push(file);
    }
  }
  return listing;
}

const READ_SCRIPT = [
  'f=$1; bs=$2; skip=$3; count=$4; zip=$5',
  '[ -r "$f" ] || { echo "cannot read $f" >&2; exit 3; }',
  'if [ "$zip" = yes ]; then dd if="$f" bs="$bs" skip="$skip" count="$count" 2>/dev/null | gzip -1 -c | base64',
  'else dd if="$f" bs="$bs" skip="$skip" count="$count" 2>/dev/null | base64; fi',
].join('\n');

/** Bytes of a file, base64 on stdout (gzip'd first when the member has gzip: the WAL's preallocated tail is zeros). */
export function readRangeCommand(request: ByteRequest, gzip: boolean): string {
  const block = request.offset % 4096 === 0 && request.length >= 4096 ? 4096 : 512;
  if (request.offset % block !== 0) throw new Error(`unaligned read at ${request.offset}`);
  const skip = request.offset / block;
  const count = Math.max(1, Math.ceil(request.length / block));
  return `sh -c ${shellJoin([READ_SCRIPT, 'sh', request.file, String(block), String(skip), String(count), gzip ? 'yes' : 'no'])}`;
}

/** The bytes a read command printed, cut to what was asked. */
export function decodeRange(stdout: string, request: ByteRequest, gzip: boolean): Buffer {
  const raw = Buffer.from(stdout.replace(/\s+/g, ''), 'base64');
  const data = gzip && raw.length > 0 ? gunzipSync(raw) : raw;
  return data.subarray(0, request.length);
}
