/**
 * Child process for the restart test: opens the store in the data directory given as argv[2],
 * bootstraps the admin token, serves the API on 127.0.0.1 (ephemeral port) and prints one JSON
 * line with the port and the token file, then runs until killed.
 */
import { join } from 'node:path';
import { createApp } from '../../../control-plane/src/api/app.js';
import { bootstrapAdminToken } from '../../../control-plane/src/api/bootstrap.js';
import { createStore } from '../../../control-plane/src/store/store.js';

const dataDir = process.argv[2]!;
const store = createStore({ path: join(dataDir, 'meshward.db') });
const boot = bootstrapAdminToken(store, dataDir);
const app = await createApp({ store, dlpConfigSchema: false });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;
process.stdout.write(`${JSON.stringify({ port, tokenPath: boot.path, created: boot.created, revision: store.revision })}\n`);
