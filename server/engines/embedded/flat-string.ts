/**
 * Strings the embedded store keeps for a long time (packed records, keys of remembered message
 * ids) as one flat string each. V8 returns a concatenation, and JSON.stringify's result, as a
 * rope of the parts it was built from: a 261-character packed pending identity kept as a rope
 * cost ~140 B more than flat, a `site\0messageId` key ~25 B more (measured; README, Limits of
 * the embedded store). Reading a string as a number makes V8 flatten it in place, and the next
 * young-generation collection puts the flat string where the rope was.
 */

/** Written so that the conversion `flat` makes cannot be optimized away as unused. */
let flattened = 0;

export function flat(s: string): string {
  if (Number.isNaN(Number(s))) flattened++;
  return s;
}
