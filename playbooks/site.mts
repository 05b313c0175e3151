// The whole setup, in order. Each playbook also runs alone: npx zx playbooks/00-reachable.mts
import { site } from '../lib/index.ts'
import reachable from './00-reachable.mts'

export default site([reachable], import.meta)
