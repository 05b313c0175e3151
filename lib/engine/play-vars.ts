// A host's vars as one playbook sees them, outside a run (a test, `zxplay render`): its specs' and its
// own defaults under the inventory's, then what they derive. A run keeps a VarsTable instead (vars-spec.ts).
import { inventoryOf, type Host, type Vars } from '../inventory/inventory.ts'
import { VarsTable, type DeclaredVars } from '../inventory/vars-spec.ts'

export { withDefaults } from '../inventory/vars-spec.ts'

/** Bad vars throw one InventoryError listing all of them. */
export function playbookVars(pb: DeclaredVars, host: Host): Vars {
  return new VarsTable([pb], inventoryOf(host) ?? { hosts: [host], groups: new Map() }).varsFor(pb, host)
}
