/** KFL string literals: defined once in src/model (protocol descriptors build queries too). */
export { kflString } from '../model/kfl-string.ts';
