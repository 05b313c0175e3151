// Loads the runner's TypeScript without tsx's loader thread, which is ~0.15 s of every start on Node 20
// (`node -e 0` 0.08 s; with `--import=tsx` 0.25 s). Each .ts/.mts file of an entry's import graph is
// compiled once with esbuild (the compiler tsx uses, with the same settings) into a mirror of its
// absolute path under node_modules/.cache/zxplay/ (.ts → .js, .mts → .mjs), its imports pointed at
// the mirror, and its import.meta left the source's own, so paths relative to a file mean the same.
// Each entry has a graph file: its files with their inode, size and times. A start stats them (~1 ms)
// and compiles again when one changed. Plain JavaScript: it runs before anything can load TypeScript.
import fs from 'node:fs'
import path from 'node:path'
import { builtinModules, createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** Bumped whenever the compiled form changes, so older mirrors are compiled again. */
const SCHEME = 1
const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CACHE = path.join(ROOT, 'node_modules', '.cache', 'zxplay')
const TS = /\.(m?)ts$/
const META = '__zxplay_meta'

/** Where `file`'s compiled copy is. */
export const mirrorOf = (file) => path.join(CACHE, 'js', file.replace(TS, '.$1js'))
const graphOf = (entry) => `${mirrorOf(entry)}.graph.json`

/**
 * `file` (a path or file: URL of a .ts/.mts file) imported from its compiled mirror, compiled first
 * when it or a file it imports changed. undefined when it cannot be: the cache cannot be written.
 */
export async function importTs(file) {
  const entry = typeof file === 'string' && !file.startsWith('file:') ? path.resolve(file) : fileURLToPath(file)
  if (!TS.test(entry)) return undefined
  if (!isFresh(entry)) {
    try {
      compileGraph(entry)
    } catch (e) {
      if (e.code === 'EACCES' || e.code === 'EROFS' || e.code === 'EPERM') return undefined
      throw e
    }
  }
  return import(pathToFileURL(mirrorOf(entry)).href)
}

// What tells a changed file: a save, a checkout and a rename each change one of these.
const stamp = (st) => [st.ino, st.size, st.mtimeMs, st.ctimeMs]

function isFresh(entry) {
  let graph
  try {
    graph = JSON.parse(fs.readFileSync(graphOf(entry), 'utf8'))
  } catch {
    return false
  }
  if (graph.scheme !== SCHEME) return false
  for (const [file, ...was] of graph.files) {
    let st
    try {
      st = fs.statSync(file)
    } catch {
      return false
    }
    if (stamp(st).some((v, i) => v !== was[i])) return false
  }
  return true
}

function compileGraph(entry) {
  const esbuild = createRequire(import.meta.url)('esbuild')
  const files = []
  const queue = [entry]
  const seen = new Set(queue)
  while (queue.length) {
    const file = queue.shift()
    // stat before reading: a save in between makes the next start compile again, never the reverse
    const st = fs.statSync(file)
    const source = fs.readFileSync(file, 'utf8')
    const { code } = transform(esbuild, source, {
      loader: 'ts',
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      sourcefile: file,
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
      define: { 'import.meta': META },
    })
    const resolveBare = bareResolver(file)
    const to = (spec) => {
      if (spec.startsWith('node:') || builtinModules.includes(spec)) return spec
      const local = spec.startsWith('file:') ? fileURLToPath(spec) : /^\.{0,2}\//.test(spec) ? path.resolve(path.dirname(file), spec) : undefined
      if (local === undefined) return resolveBare(spec)
      if (!fs.existsSync(local)) throw loadError(`${file}: cannot find module '${spec}' (${local})`)
      if (!TS.test(local)) return pathToFileURL(local).href
      if (!seen.has(local)) seen.add(local), queue.push(local)
      return pathToFileURL(mirrorOf(local)).href
    }
    // esbuild prints each import and export-from as a statement of its own; dynamic imports anywhere
    const out = code
      .replace(/^((?:import|export)\b[^"\n]*?\bfrom ?|import ?|\} from ?)"([^"\n]+)"/gm, (_, head, spec) => `${head}${JSON.stringify(to(spec))}`)
      .replace(/\bimport\("([^"\n]+)"\)/g, (_, spec) => `import(${JSON.stringify(to(spec))})`)
    // on the first line: the compiled lines keep their numbers (a stack trace's, against esbuild's output)
    const meta = `const ${META} = { url: ${JSON.stringify(pathToFileURL(file).href)}, filename: ${JSON.stringify(file)}, dirname: ${JSON.stringify(path.dirname(file))} };`
    writeAtomic(mirrorOf(file), meta + out)
    files.push([file, ...stamp(st)])
  }
  writeAtomic(graphOf(entry), JSON.stringify({ scheme: SCHEME, files }))
}

/**
 * How Node would resolve a package name imported by `file`, as a file: URL (the mirror is elsewhere, so
 * a bare name cannot stay bare). Inside zxplay, as from here; elsewhere, asked of a Node in the file's folder.
 */
function bareResolver(file) {
  const dir = path.dirname(file)
  const inside = !path.relative(ROOT, dir).startsWith('..') && !hasNodeModulesBetween(dir)
  if (inside) return (spec) => import.meta.resolve(spec)
  return (spec) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `process.stdout.write(import.meta.resolve(${JSON.stringify(spec)}))`], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    if (r.status !== 0) throw loadError(`${file}: cannot find package '${spec}' from ${dir}`)
    return r.stdout
  }
}

/** A node_modules folder below zxplay's root on the way to `dir` would resolve names differently. */
function hasNodeModulesBetween(dir) {
  for (let d = dir; path.relative(ROOT, d) !== ''; d = path.dirname(d)) if (fs.existsSync(path.join(d, 'node_modules'))) return true
  return false
}

/** esbuild's error for a file that does not parse, as one line a user can act on. */
function transform(esbuild, source, options) {
  try {
    return esbuild.transformSync(source, options)
  } catch (e) {
    const first = e.errors?.[0]
    if (!first) throw e
    throw loadError(`${options.sourcefile}:${first.location?.line ?? 0}:${first.location?.column ?? 0}: ${first.text}`)
  }
}

/** What the CLI says as bad input (a playbook that cannot be loaded), not as an internal error. */
const loadError = (message) => Object.assign(new Error(message), { code: 'ZXPLAY_LOAD' })

/** Written whole or not at all: concurrent starts compile the same bytes, and the last rename wins. */
function writeAtomic(dest, text) {
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 })
  const tmp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  fs.writeFileSync(tmp, text, { flag: 'wx', mode: 0o644 })
  fs.renameSync(tmp, dest)
}

// `node bin/ts-cache.mjs FILE.ts ARGS…`: FILE run from the cache, with the argv it would have under
// `node --import=tsx FILE.ts ARGS…` (the benchmark starts its floor so, as zxplay starts).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.argv.splice(1, 1)
  if (!process.argv[1] || !(await importTs(process.argv[1]))) throw new Error('usage: node bin/ts-cache.mjs FILE.ts [ARGS…] (with a writable node_modules/.cache)')
}
