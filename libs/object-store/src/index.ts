export { checkObjectUrl } from './check-object-url.js';
export { openObjectRef, openObjectStore, useObjectRef } from './open-object-store.js';
export type { ObjectStore, ObjectStoreOptions } from './object-store.js';
export { ObjectStoreError, type ObjectStoreErrorCode } from './object-store-error.js';
