// Public surface of the FFI layer: typed syscalls, the error type, errno names, constants.
export * from './calls.js';
export { SysError, isSysError, errnoIs, type ErrnoCode } from './error.js';
export { errnoName, errnoNumber, type ErrnoName } from './errno.js';
export * as K from '../include/index.js';
