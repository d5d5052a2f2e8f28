/**
 * File-based {@link CaStore}.
 *
 * Layout under `dir` (created 0700):
 * - `ca-state.json`: authorities (certificates, roles), rotation progress, bundle version; 0600;
 * - `keys/<authority-id>.key`: one private key per authority; 0600; PKCS#8 PEM, or the encrypted
 *   envelope of key-encryption.ts when a passphrase is configured.
 * Writes go to a temporary file in the same directory (created 0600), are fsync'd, then renamed
 * over the target, so a crash never leaves a half-written file. Permissions are re-asserted on
 * every write (a file created by hand with a wider mode is narrowed back to 0600).
 */
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CaError } from './ca-error.js';
import type { CaStore, StoredCaState } from './ca-store.js';
import { decryptPrivateKey, encryptPrivateKey, isEncryptedPrivateKey } from './key-encryption.js';

/** Environment variable holding the CA key passphrase (read when `keyPassphrase` is not given). */
export const CA_KEY_PASSPHRASE_ENV = 'MESHWARD_CA_KEY_PASSPHRASE';

export interface FileCaStoreOptions {
  readonly dir: string;
  /**
   * Encrypts keys at rest when set (non-empty). Defaults to `process.env.MESHWARD_CA_KEY_PASSPHRASE`.
   * Plaintext keys written before a passphrase was configured still load, and are re-encrypted
   * the next time they are saved.
   */
  readonly keyPassphrase?: string | undefined;
}

async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

const SAFE_ID = /^[0-9a-f]{8,128}$/;

export function createFileCaStore(options: FileCaStoreOptions): CaStore {
  const dir = options.dir;
  const passphrase = options.keyPassphrase ?? process.env[CA_KEY_PASSPHRASE_ENV];
  const statePath = join(dir, 'ca-state.json');
  const keyDir = join(dir, 'keys');
  const keyPath = (id: string): string => {
    if (!SAFE_ID.test(id)) throw new CaError('INVALID_ARGUMENT', `authority id '${id}' is not a hex key identifier`);
    return join(keyDir, `${id}.key`);
  };
  const ensureDirs = async (): Promise<void> => {
    await mkdir(keyDir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    await chmod(keyDir, 0o700);
  };
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(statePath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new CaError('CA_STATE_CORRUPT', `${statePath}: cannot read (${(err as Error).message})`, { cause: err });
      }
      try {
        const state = JSON.parse(text) as StoredCaState;
        if (state.formatVersion !== 1 || !Array.isArray(state.authorities)) throw new Error('unknown format');
        return state;
      } catch (err) {
        throw new CaError('CA_STATE_CORRUPT', `${statePath}: not a meshward CA state file (${(err as Error).message})`, { cause: err });
      }
    },
    async save(state) {
      await ensureDirs();
      await writeFileAtomic(statePath, JSON.stringify(state, null, 2) + '\n');
    },
    async saveKey(id, pem) {
      await ensureDirs();
      const body = passphrase !== undefined && passphrase !== '' ? encryptPrivateKey(pem, passphrase) : pem;
      await writeFileAtomic(keyPath(id), body);
    },
    async loadKey(id) {
      const path = keyPath(id);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        throw new CaError('CA_STATE_CORRUPT', `${path}: the CA private key is missing or unreadable (${(err as Error).message})`, { cause: err });
      }
      return isEncryptedPrivateKey(text) ? decryptPrivateKey(text, passphrase, path) : text;
    },
    async deleteKey(id) {
      await rm(keyPath(id), { force: true });
    },
  };
}
