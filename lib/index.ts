// What playbooks import. Re-exports only.
export { changed, ok, skip, task } from './playbook.ts'
export { playbook, site } from './autorun.ts'
export { raw } from './shell.ts'
export type { Playbook, PlaybookDef, Task, TaskOptions } from './playbook.ts'
export type { Context, Output, Shell, CmdOptions, UploadOptions } from './context.ts'
export type { Host, Vars } from './inventory.ts'
export { FACTS_COMMAND, keyValues, parseFacts } from './facts.ts'
export type { Facts } from './facts.ts'
