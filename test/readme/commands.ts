// The README's commands as CI runs them: every line of every ```sh block in the sections named,
// in order, with where it stands (section, block, line) so that a failure names it. Markers, for
// commands CI must not run or whose success is not exit 0 (visible to readers too):
//   a line's comment `# not in CI: why`         the command is skipped, named in the count;
//   `<!-- not in CI: why -->` right before a block  every command of the block is;
//   a line's comment `… (exit N: what it means)`   exit N counts as success as well as 0.

export type ReadmeCommand = {
  section: string // the nearest heading above the block
  block: number // the sh block's number, 1-based, counted over the sections read
  line: number // the command's line in the README (1-based)
  command: string // without its comment
  okExits: number[]
  skip?: string // why CI does not run it
}

/** The commands of the ```sh blocks under the `##` headings listed (their `###` subsections too). */
export function readmeCommands(text: string, sections: string[]): ReadmeCommand[] {
  const out: ReadmeCommand[] = []
  const lines = text.split('\n')
  let inSection = false
  let heading = ''
  let block = 0
  let fence: { sh: boolean; skip?: string } | undefined
  let pendingSkip: string | undefined
  const found = new Set<string>()
  for (const [i, raw] of lines.entries()) {
    if (fence) {
      if (/^```\s*$/.test(raw)) fence = undefined
      else if (fence.sh) {
        const m = raw.match(/^(.*?)(?:\s+#\s+(.*))?$/)!
        const command = m[1]!.trim()
        if (!command || command.startsWith('#')) continue
        const comment = m[2] ?? ''
        const skip = fence.skip ?? comment.match(/^not in CI:\s*(.+)$/)?.[1]
        const exit = comment.match(/\(exit (\d+)\b[^)]*\)/)?.[1]
        out.push({ section: heading, block, line: i + 1, command, okExits: exit ? [0, Number(exit)] : [0], ...(skip ? { skip } : {}) })
      }
      continue
    }
    const h = raw.match(/^(#{2,3}) (.+)$/)
    if (h) {
      if (h[1] === '##') inSection = sections.includes(h[2]!)
      if (inSection) heading = h[2]!
      if (inSection && h[1] === '##') found.add(heading)
      pendingSkip = undefined
      continue
    }
    if (!inSection) continue
    const marker = raw.match(/^<!--\s*not in CI:\s*(.+?)\s*-->$/)
    if (marker) pendingSkip = marker[1]
    else if (/^```/.test(raw)) {
      const sh = /^```sh\s*$/.test(raw)
      if (sh) block++
      fence = { sh, ...(sh && pendingSkip ? { skip: pendingSkip } : {}) }
      pendingSkip = undefined
    } else if (raw.trim()) pendingSkip = undefined // a marker applies to the block right after it
  }
  const missing = sections.filter((s) => !found.has(s))
  if (missing.length) throw new Error(`README.md: no section ${missing.map((s) => `"## ${s}"`).join(', ')}`)
  return out
}

/** Where a command stands, for a failure or the skipped list. */
export const whereIs = (c: ReadmeCommand) => `README.md:${c.line} ("${c.section}", block ${c.block}): ${c.command}`
