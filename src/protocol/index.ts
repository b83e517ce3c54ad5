/** tsflux protocol layer (docs/protocol.md §A): message model, codec, stream framing, errno, JSON. */
export * from './types.js';
export * from './errno.js';
export * from './json.js';
export * from './codec.js';
export * from './stream.js';
