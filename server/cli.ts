/**
 * The operator's CLI: `npm run -s parley -- <command> ...`. Each command lives in server/cli/
 * and exports `run(args)`, returning the exit code. Output is JSON on stdout; problems are one
 * line on stderr.
 */
export {};

const commands: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  sites: () => import('./cli/sites.ts'),
  sign: () => import('./cli/sign.ts'),
  import: () => import('./cli/import.ts'),
  migrate: () => import('./cli/migrate.ts'),
  'migrate-store': () => import('./cli/migrate-store.ts'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? commands[name] : undefined;
if (!load) {
  process.stderr.write(`usage: parley <${Object.keys(commands).join('|')}> ...\n`);
  process.exit(2);
}
try {
  process.exitCode = await (await load()).run(args);
} catch (e) {
  process.stderr.write(`parley ${name}: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
