/** `parley sign`: not built yet (see README "Not built yet"). */
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('parley sign: not built yet\n');
  return 1;
}
