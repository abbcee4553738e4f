/**
 * A small argument parser for the CLI: `--key value` pairs (repeatable ones collect into
 * arrays), switches (`--dry-run`) and positionals. Unknown flags are errors, so a typo never
 * silently does nothing.
 */
import { parseArgs } from 'node:util';

export function parse(args: string[], flags: Record<string, { multiple?: boolean; boolean?: boolean }>) {
  const options = Object.fromEntries(
    Object.entries(flags).map(([k, v]) => [
      k,
      v.boolean ? { type: 'boolean' as const } : { type: 'string' as const, multiple: v.multiple ?? false },
    ]),
  );
  return parseArgs({ args, options, allowPositionals: true, strict: true });
}
