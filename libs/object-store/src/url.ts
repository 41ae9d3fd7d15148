// A second entry point without the AWS SDK: the configuration checks store URLs at start-up in
// every process, workers included, which never open a store.
export { parseLocationUrl } from './object-url.js';
