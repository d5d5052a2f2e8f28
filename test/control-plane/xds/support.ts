/** Test-side imports of the built control-plane xDS module (one place to change paths). */
export * from '../../../control-plane/src/xds/index.js';
export { schemaOf as schemaOfForTest } from '../../../control-plane/src/xds/type-urls.js';
