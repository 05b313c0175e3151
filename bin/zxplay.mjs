#!/usr/bin/env node
// Plain JavaScript so it starts on Node 20 without a loader. Under npm/npx, .npmrc's node-options
// already loaded tsx (a second copy costs ~55 ms): the TypeScript is imported as it is. Otherwise it
// comes from the compiled cache (ts-cache.mjs), ~0.15 s sooner; tsx only where that cache cannot be written.
import { pathToFileURL } from 'node:url'
const tsxLoaded = /--import[= ]tsx\b/.test(`${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`)
const cached = tsxLoaded ? undefined : await import('./ts-cache.mjs')
const cli = cached && (await cached.importTs(new URL('../lib/cli/cli.ts', import.meta.url)))
if (cli) {
  const load = async (file) => {
    const mod = await cached.importTs(file)
    if (mod) return mod
    // tsx now would load a second copy of the runner beside this one: said, not done
    if (/\.m?ts$/.test(file)) throw Object.assign(new Error(`${file} cannot be compiled into ${cached.CACHE} (not writable): run it with npx zxplay, which loads tsx`), { code: 'ZXPLAY_LOAD' })
    return import(pathToFileURL(file).href)
  }
  process.exitCode = await cli.main(process.argv.slice(2), cli.processIo(), load)
} else {
  if (!tsxLoaded) (await import('tsx/esm/api')).register()
  const { main } = await import('../lib/cli/cli.ts')
  process.exitCode = await main()
}
