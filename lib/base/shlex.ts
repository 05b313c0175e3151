// Python's shlex.split (POSIX mode), which Ansible uses on ssh argument strings: whitespace
// separates words, '…' is literal, in "…" a backslash escapes only \\ and \" (Python's shlex, unlike
// sh, keeps \$ \` and a backslash-newline as they are), a backslash outside quotes escapes the next
// character, # is not special. Pure.
export function shlexSplit(s: string): string[] {
  const words: string[] = []
  let word: string | undefined
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1)
      if (end < 0) throw new Error('no closing quotation')
      word = (word ?? '') + s.slice(i + 1, end)
      i = end
    } else if (c === '"') {
      word ??= ''
      for (i++; ; i++) {
        if (i >= s.length) throw new Error('no closing quotation')
        const d = s[i]!
        if (d === '"') break
        if (d === '\\' && i + 1 < s.length && '\\"'.includes(s[i + 1]!)) word += s[++i]
        else word += d
      }
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new Error('no escaped character')
      word = (word ?? '') + s[++i]
    } else word = (word ?? '') + c
  }
  if (word !== undefined) words.push(word)
  return words
}
