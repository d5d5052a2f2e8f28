import { validateMeshModel, formatValidationIssue, type ValidationIssue, type MeshSettings } from '../model/index.js';
import { MESH_NAME, MODEL_KIND, toMeshModel } from '../store/to-mesh-model.js';
import type { Change, ResourceKind, StoreSnapshot } from '../store/store.js';
import { StoreError, type StoreIssue } from '../store/store-error.js';

/**
 * Turns the domain model's validation issues into store errors that name the request field.
 * (Assembling the MeshModel from a snapshot is the store's job: store/to-mesh-model.ts.)
 */
export { MESH_NAME, MODEL_KIND, toMeshModel };

/** The name a ValidationIssue uses for a stored resource (workloads: `<namespace>/<name>`, as stored). */
function issueName(kind: ResourceKind, storeName: string, snapshot: StoreSnapshot): string {
  if (kind === 'mesh') {
    const mesh = snapshot.get('mesh', MESH_NAME)?.spec as MeshSettings | undefined;
    return mesh?.trustDomain ?? '';
  }
  return storeName;
}

/** `versions[1].weight` → `/versions/1/weight` (a JSON pointer into the request body). */
export function issueFieldToPointer(field: string): string {
  if (field === '') return '';
  const parts: string[] = [];
  for (const seg of field.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(seg);
    if (m === null) {
      parts.push(seg);
      continue;
    }
    if (m[1] !== '') parts.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) parts.push(idx[1]!);
  }
  return '/' + parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

/**
 * A candidate validator for the store: runs {@link validateMeshModel} on the candidate and refuses
 * it when it has issues the current state did not have (so a pre-existing problem — e.g. after a
 * stricter validator shipped — never blocks unrelated changes). Issues on a resource the batch
 * writes come back as INVALID (400) naming the body field; issues that only land on other
 * resources (e.g. deleting a model a rate limit names) as REFERENCED (409) naming that resource.
 */
export function createModelValidator(options: {
  defaultTrustDomain: string;
  current: () => StoreSnapshot;
}): (candidate: StoreSnapshot, changed: readonly Change[]) => void {
  // Keyed by the snapshot object: the store hands out the committed candidate itself as the new
  // current snapshot, so a remembered candidate matches only if it really was committed.
  let cache: { snapshot: StoreSnapshot; keys: Set<string> } | undefined;
  const currentIssues = (): Set<string> => {
    const snap = options.current();
    if (cache?.snapshot !== snap) {
      const issues = validateMeshModel(toMeshModel(snap, options.defaultTrustDomain));
      cache = { snapshot: snap, keys: new Set(issues.map(formatValidationIssue)) };
    }
    return cache.keys;
  };
  return (candidate, changed) => {
    const touched = changed.filter((c) => MODEL_KIND[c.kind] !== undefined);
    if (touched.length === 0) return;
    const all = validateMeshModel(toMeshModel(candidate, options.defaultTrustDomain));
    const before = currentIssues();
    // Once committed, the candidate is the current state: remember its issues so the next write
    // does not validate the same model again (unused if this commit does not happen).
    const remember = (): void => {
      cache = { snapshot: candidate, keys: new Set(all.map(formatValidationIssue)) };
    };
    if (all.length === 0) return remember();
    const fresh = all.filter((i) => !before.has(formatValidationIssue(i)));
    if (fresh.length === 0) return remember();
    const written = new Set(
      touched
        .filter((c) => c.op !== 'delete')
        .map((c) => `${MODEL_KIND[c.kind]}\u0000${issueName(c.kind, c.name, candidate)}`),
    );
    const own = fresh.filter((i) => written.has(`${i.kind}\u0000${i.name}`));
    if (own.length > 0) {
      throw new StoreError('INVALID', describe(own), { issues: own.map(toStoreIssue) });
    }
    throw new StoreError('REFERENCED', describe(fresh), {
      issues: fresh.map((i) => ({ ...toStoreIssue(i), resource: { kind: i.kind, name: i.name } })),
    });
  };
}

function toStoreIssue(i: ValidationIssue): StoreIssue {
  return { field: issueFieldToPointer(i.field), reason: `${i.reason} (${i.code})` };
}

function describe(issues: readonly ValidationIssue[]): string {
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${first.kind} "${first.name}"${first.field === '' ? '' : ` ${first.field}`}: ${first.reason}${more}`;
}
