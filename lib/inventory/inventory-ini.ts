// Ansible's INI inventory (plugins/inventory/ini.py), read into the same shape as a YAML inventory
// ({group: {hosts, vars, children}}), so one reader checks both. Pure.
//
//   host1 ansible_port=2222 x="a b"     host line: shell-style words, values as Python literals
//   [web]  [web:vars]  [web:children]   sections; lines before the first are in 'ungrouped'
//   # or ; at the start of a line       a comment (and # after a host line's words)

import { InventoryError } from '../base/errors.ts'
import { literalOrText } from '../base/python-literal.ts'
import { isMap } from '../base/yaml.ts'

type Section = { hosts: Record<string, Record<string, unknown>>; vars: Record<string, unknown>; children: Record<string, null> }

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/

export function parseIni(text: string, file: string): Record<string, unknown> {
  const root: Record<string, Partial<Section>> = {}
  const section = (name: string) => (root[name] ??= {})
  // Groups whose own section ([g] or [g:children]) has been seen; [g:vars] and children need one.
  const declared = new Set(['all', 'ungrouped'])
  const needed = new Map<string, string>() // group → the first line that needs it
  let group = 'ungrouped'
  let state = 'hosts'
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, i) => {
    const at = `line ${i + 1}`
    const fail = (message: string): never => {
      throw new InventoryError(file, at, message)
    }
    const line = raw.trim()
    if (!line || line[0] === '#' || line[0] === ';') return
    const m = SECTION.exec(line)
    if (m) {
      group = m[1]!
      state = m[2] ?? 'hosts'
      if (!['hosts', 'children', 'vars'].includes(state)) fail(`section [${group}:${state}] has an unknown type '${state}' (expected hosts, vars or children)`)
      section(group)
      if (state === 'vars') {
        if (!declared.has(group) && !needed.has(group)) needed.set(group, `${at}: section [${group}:vars] is for the group '${group}', which no [${group}] or [${group}:children] section declares`)
      } else declared.add(group)
      return
    }
    if (line.startsWith('[') && line.endsWith(']')) fail(`invalid section '${line}' (no spaces or other characters around the group name)`)
    if (state === 'hosts') {
      const [pattern, ...assignments] = shellWords(line, fail)
      if (!pattern) return
      if (pattern === '---') fail(`'---' is a YAML document marker: name the file .yaml or .yml`)
      if (pattern.endsWith(':')) fail(`invalid host '${pattern}': a trailing ':' is where the port goes`)
      const vars: Record<string, unknown> = {}
      for (const word of assignments) {
        const eq = word.indexOf('=')
        if (eq < 0) fail(`expected key=value after the host name, got '${word}'`)
        vars[word.slice(0, eq)] = literalOrText(word.slice(eq + 1))
      }
      const hosts = (section(group).hosts ??= {})
      // the same host twice in one section: the later line's variables win, key by key
      hosts[pattern] = { ...hosts[pattern], ...vars }
    } else if (state === 'vars') {
      const eq = line.indexOf('=')
      if (eq < 0) fail(`expected key=value in [${group}:vars], got '${line}'`)
      ;(section(group).vars ??= {})[line.slice(0, eq).trim()] = literalOrText(line.slice(eq + 1).trim())
    } else {
      const child = GROUP_NAME.exec(line)?.[1] ?? fail(`expected a group name in [${group}:children], got '${line}'`)
      ;(section(group).children ??= {})[child] = null
      if (!declared.has(child) && !needed.has(child)) needed.set(child, `${at}: [${group}:children] names the group '${child}', which no [${child}] or [${child}:children] section declares`)
    }
  })
  for (const [name, message] of needed) {
    if (!declared.has(name)) {
      const [line = '', text = message] = message.split(/: (.*)/s)
      throw new InventoryError(file, line, text)
    }
  }
  for (const s of Object.values(root)) if (isMap(s) && s.hosts && !Object.keys(s.hosts).length) delete s.hosts
  return root
}

/** Python's shlex.split(line, comments=True), which Ansible splits a host line with. */
function shellWords(line: string, fail: (message: string) => never): string[] {
  const words: string[] = []
  let word: string | undefined
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quote) {
      if (c === quote) quote = undefined
      else if (c === '\\' && quote === '"' && (line[i + 1] === '"' || line[i + 1] === '\\')) word = (word ?? '') + line[++i]
      else word = (word ?? '') + c
    } else if (c === '"' || c === "'") {
      quote = c
      word ??= ''
    } else if (c === '\\') {
      word = (word ?? '') + (line[++i] ?? '')
    } else if (c === '#') {
      break // shlex: a # ends the word it is in, and the line
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else word = (word ?? '') + c
  }
  if (quote) fail(`no closing quotation (${quote}) in '${line}'`)
  if (word !== undefined) words.push(word)
  return words
}
