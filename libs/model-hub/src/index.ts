export { HubError, type HubErrorCode } from './errors.js';
export { DEFAULT_PULL_OPTIONS, type HubOptions, type PullOptions, type PullProgress } from './hub-options.js';
export { isHubId } from './hub-id.js';
export { selectModelFiles, type ModelFileSelection } from './model-files.js';
export { pullModel, type PulledModel } from './pull-model.js';
export { modelIdFromRef, resolveModelRef, type ResolveModelRefOptions, type ResolvedModel } from './resolve-model-ref.js';
