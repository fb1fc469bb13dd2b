/**
 * Sets `key` in a map used as a bounded cache: when the map already holds `capacity` entries, the oldest (first
 * inserted) is dropped first.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  if (map.size >= capacity) map.delete(map.keys().next().value!);
  map.set(key, value);
}
