// The whole setup, in order (Ansible's site.yml). Each playbook also runs alone:
//   npx zx playbooks/40-flannel.mts --check
import { site } from '../lib/index.ts'
import preflight from './00-preflight.mts'
import runtime from './10-runtime.mts'
import controlPlane from './20-control-plane.mts'
import cniCleanup from './30-cni-cleanup.mts'
import flannel from './40-flannel.mts'
import join from './50-join.mts'
import untaint from './60-untaint.mts'
import metricsServer from './70-metrics-server.mts'
import awsCredentials from './80-aws-credentials.mts'
import ray from './85-ray.mts'
import autoscaler from './90-autoscaler.mts'
import verify from './95-verify.mts'

export default site([preflight, runtime, controlPlane, cniCleanup, flannel, join, untaint, metricsServer, awsCredentials, ray, autoscaler, verify], import.meta)
