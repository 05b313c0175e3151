// dpkg stand-in: the query actions (-l, -s, -W, passed on to dpkg-query as dpkg does) and
// --print-architecture. Installing .deb files is not modelled.
import { dpkgQuery } from './_dpkg.ts'
import { isEntry, say, warn } from './_io.ts'

export async function main(argv: string[]): Promise<number> {
  const [first] = argv
  if (first === '--print-architecture') {
    say('amd64')
    return 0
  }
  if (first === '--print-foreign-architectures') return 0
  const queryAction = /^(-[lsW]\w*|--(list|status|show)(=.*)?)$/
  if (first !== undefined && queryAction.test(first)) return dpkgQuery(argv)
  if (first === undefined) {
    warn('dpkg: error: need an action option\n\nType dpkg --help for help about installing and deinstalling packages [*];\nUse \'apt\' or \'aptitude\' for user-friendly package management;\nType dpkg -Dhelp for a list of dpkg debug flag values;\nType dpkg --force-help for a list of forcing options;\nType dpkg-deb --help for help about manipulating *.deb files;\n\nOptions marked [*] produce a lot of output - pipe it through \'less\' or \'more\' !')
    return 2
  }
  warn(`dpkg: zxlab stand-in: ${first} is not modelled (-l, -s, -W, --print-architecture are); install packages with apt-get`)
  return 2
}

if (isEntry(import.meta.url)) process.exitCode = await main(process.argv.slice(2))
