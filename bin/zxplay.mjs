#!/usr/bin/env node
// Plain JavaScript so it starts on Node 20 without a loader; it registers tsx for the rest,
// unless npm/npx already loaded it through .npmrc's node-options (a second copy costs ~55 ms).
if (!/--import[= ]tsx\b/.test(process.env.NODE_OPTIONS ?? '')) {
  const { register } = await import('tsx/esm/api')
  register()
}
const { main } = await import('../lib/cli/cli.ts')
process.exitCode = await main()
