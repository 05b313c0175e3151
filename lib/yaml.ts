// YAML written by users (the inventory, -e @file.yaml): the schema it is read with, and how its
// values and errors read in our messages. Pure.
import { CORE_SCHEMA, mergeTag, type YAMLException } from 'js-yaml'

// Merge keys (<<: *defaults) are common in Ansible inventories, and PyYAML reads them.
export const YAML_SCHEMA = CORE_SCHEMA.withTags(mergeTag)

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A value as it would read in an error message: 'text', 3, a list, a map, nothing. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  if (typeof value === 'string') return `'${value}'`
  return String(value)
}

export function describeYamlError(e: YAMLException): string {
  const mark = e.mark
  if (!mark) return e.reason
  let reason = e.reason
  if (reason === 'duplicated mapping key') {
    const key = /^[^\s:]+/.exec(mark.buffer.slice(mark.position))?.[0]
    if (key) reason = `duplicated mapping key '${key}'`
  }
  return `line ${mark.line + 1}, column ${mark.column + 1}: ${reason}`
}

export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  return e instanceof Error ? e.message : String(e)
}
