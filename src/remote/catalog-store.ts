// Reading, rebuilding and writing the remote catalog object. A catalog that cannot be read or written
// gives a warning, never a failure: the copies themselves are the truth.
import { classifyFailure } from './remote-errors.js';
import type { ObjectStore } from './object-store.js';
import {
  catalogKey,
  clusterSnapshotPrefix,
  mergeCopies,
  parseRemoteCatalog,
  recordFromObject,
  REMOTE_CATALOG_FORMAT,
  type RemoteCopyRecord,
} from './remote-catalog.js';
import type { RemoteSettings } from './settings-types.js';

export type CatalogState = 'ok' | 'missing' | 'unreadable' | 'rebuilt';

export interface RemoteCatalogView {
  copies: RemoteCopyRecord[];
  state: CatalogState;
  warnings: string[];
}

type Settings = Pick<RemoteSettings, 'catalogPrefix' | 'snapshotPrefix'>;

async function readText(store: ObjectStore, key: string): Promise<string | undefined> {
  const head = await store.head(key);
  if (!head) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of (await store.get(key)) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readRemoteCatalog(store: ObjectStore, settings: Settings, cluster: string): Promise<RemoteCatalogView> {
  const key = catalogKey(settings, cluster);
  let text: string | undefined;
  try {
    text = await readText(store, key);
  } catch (error) {
    return {
      copies: [],
      state: 'unreadable',
      warnings: [`the remote catalog ${store.name}/${key} cannot be read: ${classifyFailure(error).detail}`],
    };
  }
  if (text === undefined) return { copies: [], state: 'missing', warnings: [] };
  try {
    return { copies: parseRemoteCatalog(text), state: 'ok', warnings: [] };
  } catch (error) {
    return {
      copies: [],
      state: 'unreadable',
      warnings: [`the remote catalog ${store.name}/${key} is damaged (${(error as Error).message}); rebuilding it from the snapshot objects`],
    };
  }
}

/**
 * Match `known` records with the objects under the cluster's snapshot prefix: objects without a record
 * get one from their metadata (unverified), records whose object is gone are dropped.
 */
export async function reconcileWithObjects(
  store: ObjectStore,
  settings: Settings,
  cluster: string,
  known: readonly RemoteCopyRecord[],
): Promise<{ copies: RemoteCopyRecord[]; added: number; gone: RemoteCopyRecord[] }> {
  const objects = await store.list(clusterSnapshotPrefix(settings, cluster));
  const present = new Set(objects.map((o) => o.key));
  const byKey = new Map(known.map((r) => [r.key, r]));
  const added: RemoteCopyRecord[] = [];
  for (const object of objects) {
    if (byKey.has(object.key)) continue;
    const head = await store.head(object.key);
    const record = head ? recordFromObject(object.key, head, cluster) : undefined;
    if (record) added.push(record);
  }
  const gone = known.filter((r) => !present.has(r.key));
  return {
    copies: mergeCopies(
      known.filter((r) => present.has(r.key)),
      added,
    ),
    added: added.length,
    gone,
  };
}

export async function writeRemoteCatalog(
  store: ObjectStore,
  settings: Settings,
  cluster: string,
  copies: readonly RemoteCopyRecord[],
): Promise<void> {
  const body = { format: REMOTE_CATALOG_FORMAT, cluster, updatedAt: new Date().toISOString(), copies };
  await store.put(catalogKey(settings, cluster), Buffer.from(`${JSON.stringify(body, null, 1)}\n`), { contentType: 'application/json' });
}

/**
 * The catalog as it is, rebuilt from the objects when missing or damaged (and written back when
 * `writeBack`). `reconcile` also checks a readable catalog against the objects (for list and prune).
 */
export async function loadRemoteCatalog(
  store: ObjectStore,
  settings: Settings,
  cluster: string,
  options: { reconcile?: boolean; writeBack?: boolean } = {},
): Promise<RemoteCatalogView> {
  const view = await readRemoteCatalog(store, settings, cluster);
  if (view.state === 'ok' && !options.reconcile) return view;
  const { copies, added, gone } = await reconcileWithObjects(store, settings, cluster, view.copies);
  const warnings = [...view.warnings];
  if (gone.length > 0)
    warnings.push(
      `${gone.length} catalogued remote cop${gone.length === 1 ? 'y is' : 'ies are'} gone from the bucket (a lifecycle rule or a manual delete?): ${gone.map((r) => r.name).join(', ')}`,
    );
  const changed = view.state !== 'ok' || added > 0 || gone.length > 0;
  if (changed && options.writeBack) {
    await writeRemoteCatalog(store, settings, cluster, copies).catch((error: unknown) =>
      warnings.push(`the remote catalog could not be written back: ${classifyFailure(error).detail}`),
    );
  }
  return { copies, state: view.state === 'ok' ? 'ok' : 'rebuilt', warnings };
}

/** Apply `change` to the catalog (rebuilt first if needed) and write it; a write failure is a warning. */
export async function updateRemoteCatalog(
  store: ObjectStore,
  settings: Settings,
  cluster: string,
  change: (copies: RemoteCopyRecord[]) => RemoteCopyRecord[],
): Promise<RemoteCatalogView> {
  let view: RemoteCatalogView;
  try {
    view = await loadRemoteCatalog(store, settings, cluster);
  } catch (error) {
    // Writing now would replace the records we could not read with just this change: leave it to the next run.
    const copies = change([]);
    return {
      copies,
      state: 'unreadable',
      warnings: [`the remote catalog was not updated (it could not be read or rebuilt: ${classifyFailure(error).detail}); the next run rebuilds it`],
    };
  }
  const copies = change(view.copies);
  try {
    await writeRemoteCatalog(store, settings, cluster, copies);
  } catch (error) {
    view.warnings.push(`the remote catalog could not be written (it is rebuilt from the objects next time): ${classifyFailure(error).detail}`);
  }
  return { ...view, copies };
}
