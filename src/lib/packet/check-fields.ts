// Builders reject fields their layer does not have: bundling does not type-check, so without this
// ipv4({ dontFragment: true }) would quietly build df: false.
import { LAYERS } from './fields.js';
import type { LayerType } from './types.js';

const known = new Map<LayerType, ReadonlySet<string>>();

function fieldsOf(type: LayerType): ReadonlySet<string> {
  let s = known.get(type);
  if (!s) {
    // 'type' is allowed so that a parsed layer can be spread into its builder.
    s = new Set(['type', ...LAYERS[type].fields.map((f) => f.name)]);
    known.set(type, s);
  }
  return s;
}

/** Throws a TypeError naming any key of `f` that is not a field of `type`, and the fields that are. */
export function checkFields(type: LayerType, f: object): void {
  const fields = fieldsOf(type);
  const unknown = Object.keys(f).filter((k) => !fields.has(k));
  if (unknown.length === 0) return;
  const names = unknown.map((k) => `'${k}'`).join(', ');
  const valid = [...fields].filter((k) => k !== 'type').join(', ');
  throw new TypeError(`${type}(): no field ${names}; its fields are ${valid} (ls('${type}') describes them)`);
}
