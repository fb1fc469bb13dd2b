import { getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata.js';

type MetadataStorage = ReturnType<typeof getMetadataStorage>;
type Grouped = Record<string, ValidationMetadata[]>;

const cached = new WeakSet<MetadataStorage>();

/**
 * Memoises class-validator's metadata lookups per class. Unmemoised, every validation of a DTO (and Nest's
 * `ValidationPipe` looks once more for nested binary values) filters the class's rules and walks the rules of *every*
 * decorated class in the app to find its ancestors — a cost that grows with the number of DTOs, paid on every request
 * with a body or query (~4 KB of garbage and several µs each on the award path). Rules are only ever added while
 * classes are being defined; adding one clears the memo, so a class defined later is still seen whole.
 *
 * The memoised arrays are shared between calls; class-validator and Nest only read them.
 */
export function cacheValidationMetadata(storage: MetadataStorage = getMetadataStorage()): void {
  if (cached.has(storage)) return;
  cached.add(storage);
  const lookUp = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  let byTarget = new Map<Function, Map<string, ValidationMetadata[]>>();
  let groupedOf = new WeakMap<ValidationMetadata[], Grouped>();

  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    // `groups` undefined and `[]` select the same rules in class-validator.
    const key = `${schema ?? ''}|${always ? 1 : 0}|${strictGroups ? 1 : 0}|${groups?.join('\u0000') ?? ''}`;
    let forTarget = byTarget.get(target);
    if (!forTarget) byTarget.set(target, (forTarget = new Map()));
    let found = forTarget.get(key);
    if (!found) forTarget.set(key, (found = lookUp(target, schema, always, strictGroups, groups)));
    return found;
  };
  storage.groupByPropertyName = (metadata) => {
    let grouped = groupedOf.get(metadata);
    if (!grouped) groupedOf.set(metadata, (grouped = group(metadata)));
    return grouped;
  };
  storage.addValidationMetadata = (metadata) => {
    byTarget = new Map();
    groupedOf = new WeakMap();
    add(metadata);
  };
}
