#!/usr/bin/env node
// Plain JavaScript so it starts on Node 20 without a loader; it registers tsx for the rest.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../lib/cli.ts')
await main()
