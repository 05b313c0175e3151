// Hostile values: ways out of a shell word, a quoted string, a YAML scalar or a template, each
// carrying a payload that would leave a canary file if it ever ran. Value i's canary is
// `zxcanary-<i>` (in /tmp, or in the home folder for the payloads that write through `~`).

/** Ways to break out of where a value is put, around a payload command. */
const CONTEXTS: ((p: string) => string)[] = [
  (p) => `$(${p})`,
  (p) => `\`${p}\``,
  (p) => `; ${p}`,
  (p) => `x;${p};`,
  (p) => `&& ${p}`,
  (p) => `|| ${p}`,
  (p) => `| ${p}`,
  (p) => `& ${p} &`,
  (p) => `\n${p}\n`,
  (p) => `\r\n${p}`,
  (p) => `'; ${p}; '`,
  (p) => `"; ${p}; "`,
  (p) => `'$(${p})'`,
  (p) => `"$(${p})"`,
  (p) => `\\'; ${p}; #`,
  (p) => `$'\\''; ${p}; $'`,
  (p) => `\\$(${p})`,
  (p) => `$(${p})\\`,
  (p) => `x\${IFS}${p.replace(/ /g, '${IFS}')}`,
  (p) => `<(${p})`,
  (p) => `>(${p})`,
  (p) => `$((1))$(${p})`,
  (p) => `{${p.replace(/ /g, ',')}}`,
  (p) => `*; ${p}`,
  (p) => `/*/../*; ${p}`,
  (p) => `~root; ${p}`,
  (p) => `--help; ${p}`,
  (p) => `} ${p} {`,
  (p) => `{{ ${p} }}`,
  (p) => `{% ${p} %}`,
  (p) => `"\n- $(${p})\n- "`,
  (p) => `: {${p}}\nkey: $(${p})`,
  (p) => `# ${p}\n$(${p})`,
  (p) => `\u2028$(${p})`, // LINE SEPARATOR: a line break to some YAML and JS readers
  (p) => `\u0085$(${p})`, // NEL
  (p) => `\ufeff;${p}`, // BOM
  (p) => `ｔｏｕｃｈ; ${p}`, // fullwidth letters
  (p) => `\u202e;${p}`, // RIGHT-TO-LEFT OVERRIDE
  (p) => `日本語$(${p})`,
  (p) => `\t${p}\t`,
  (p) => `\v\f; ${p}`,
  (p) => `\x1b[31m;${p}\x1b[0m`, // a terminal escape
  (p) => `$(${p})`.repeat(3),
  (p) => `'"`.repeat(50) + `$(${p})`,
  (p) => 'A'.repeat(100_000) + `$(${p})`, // very long: 100 kB
  (p) => `$(${p})` + 'é'.repeat(20_000),
  (p) => `ok\0$(${p})`, // NUL: a shell argument cannot hold it
  (p) => `%s%n%x$(${p})`, // printf formats
  (p) => `-e $(${p})`,
  (p) => `--output=/dev/null; ${p}`,
  (p) => p, // the bare command as a value
  (p) => `\\x24(${p})`,
  (p) => `!!; ${p}`,
  (p) => `a=b ${p}`,
  (p) => `)${p}(`,
  (p) => `'\\''$(${p})'\\''`,
  (p) => `\\"$(${p})\\"`,
  (p) => `"'"'"'; ${p}`,
  (p) => `$'\\x27'; ${p}`,
  (p) => `\${HOME:+$(${p})}`,
]

/** Two payloads per context: an absolute path, and a redirection through `~`. */
const PAYLOADS: ((canary: string) => string)[] = [(c) => `touch /tmp/${c}`, (c) => `echo x>~/${c}`]

export type Hostile = { value: string; canary: string; label: string }

export function hostileValues(): Hostile[] {
  const out: Hostile[] = []
  for (const payload of PAYLOADS) {
    for (const context of CONTEXTS) {
      const canary = `zxcanary-${out.length}`
      const value = context(payload(canary))
      out.push({ value, canary, label: label(value) })
    }
  }
  return out
}

/** A printable short form of a value for the table. */
export function label(value: string): string {
  const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 24)}…${value.slice(-12)}` : value)
  return value.length > 40 ? `${shown} (${value.length} chars)` : shown
}
