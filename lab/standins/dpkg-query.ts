// dpkg-query stand-in: -W/--show [-f/--showformat FMT], -l/--list, -s/--status over node.json.
import { dpkgQuery } from './_dpkg.ts'
import { isEntry } from './_io.ts'

export async function main(argv: string[]): Promise<number> {
  return dpkgQuery(argv)
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
