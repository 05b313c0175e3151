// Reading the Ray objects in one kubectl call: the List/one/none shapes of `kubectl get -o json`,
// the rollout rules of `kubectl rollout status`, and the head pod script's parts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deploymentRollout, itemsOf, rollouts, type DeploymentObj } from '../../playbooks/support/ray.ts'
import { headParts } from '../../playbooks/95-verify.mts'

const deployment = (name: string, spec: Partial<NonNullable<DeploymentObj['spec']>>, status: DeploymentObj['status'], generation = 2): DeploymentObj => ({ metadata: { name, generation }, spec, status })

test('itemsOf: a List, one object, nothing', () => {
  assert.equal(itemsOf('{"kind":"List","items":[{"kind":"Secret"},{"kind":"Deployment"}]}').map((i: any) => i.kind), ['Secret', 'Deployment'])
  assert.equal(itemsOf('{"kind":"Deployment","metadata":{"name":"a"}}').map((i: any) => i.metadata.name), ['a'])
  assert.equal(itemsOf('\n'), [])
  assert.equal(itemsOf('{"apiVersion":"v1","kind":"List","items":[]}'), [])
})

test('deploymentRollout: the spec update is not observed yet', () => {
  const r = deploymentRollout('ray-head', deployment('ray-head', { replicas: 1 }, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }))
  assert.equal(r, { done: false, progress: 'ray-head: Waiting for deployment spec update to be observed...' })
})

test('deploymentRollout: kubectl rollout status wording for each stage', () => {
  const at = (status: DeploymentObj['status'], replicas?: number) => deploymentRollout('w', deployment('w', replicas === undefined ? {} : { replicas }, { observedGeneration: 2, ...status })).progress
  assert.is(at({ replicas: 3, updatedReplicas: 1, availableReplicas: 1 }, 3), 'w: Waiting for deployment "w" rollout to finish: 1 out of 3 new replicas have been updated...')
  assert.is(at({ replicas: 4, updatedReplicas: 3, availableReplicas: 3 }, 3), 'w: Waiting for deployment "w" rollout to finish: 1 old replicas are pending termination...')
  assert.is(at({ replicas: 3, updatedReplicas: 3, availableReplicas: 2 }, 3), 'w: Waiting for deployment "w" rollout to finish: 2 of 3 updated replicas are available...')
  assert.is(at({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 3), 'w: deployment "w" successfully rolled out')
  // no replicas in the spec (the HPA's workers): the updated ones are what counts
  assert.is(at({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), 'w: deployment "w" successfully rolled out')
  assert.is(at({ conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }] }, 1), 'w: deployment "w" exceeded its progress deadline')
})

test('rollouts: done only when every named Deployment is, and a missing one says so', () => {
  const done = deployment('ray-head', { replicas: 1 }, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 })
  const state = { secret: {}, deployments: new Map([['ray-head', done]]) }
  assert.equal(rollouts(state, ['ray-head']), { done: true, progress: 'ray-head: deployment "ray-head" successfully rolled out' })
  const both = rollouts(state, ['ray-head', 'ray-worker'])
  assert.is(both.done, false)
  assert.match(both.progress, /ray-worker: not found/)
})

test('headParts: each part ends at its marker with its exit code', () => {
  const parts = headParts({ exitCode: 0, stdout: 'h1  -\nh2  -\n#zxplay-exit 0\nsha: missing\n#zxplay-exit 1\nActive:\n 1 node_ab\n#zxplay-exit 0\n', stderr: 'sha256sum: /etc/awstoken/X: No such file' }, 3)
  assert.equal(parts.map((p) => [p.ok, p.exitCode]), [[true, 0], [false, 1], [true, 0]])
  assert.is(parts[0]!.stdout, 'h1  -\nh2  -')
  assert.is(parts[2]!.stdout, 'Active:\n 1 node_ab')
})

test('headParts: a failed exec (no markers) fails every part with the exec exit code and stderr', () => {
  const parts = headParts({ exitCode: 1, stdout: '', stderr: 'Error from server (NotFound): deployments.apps "ray-head" not found' }, 3)
  assert.is(parts.length, 3)
  for (const p of parts) {
    assert.is(p.ok, false)
    assert.is(p.exitCode, 1)
    assert.match(p.stderr, /NotFound/)
  }
})

test.run()
